// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Loads Kubernetes-style multi-document YAML manifests into a ``MeshSnapshot``.
///
/// Reads `Namespace`, `Pod` and `Service` (`v1`), `WorkloadEntry` and `ServiceEntry`
/// (`networking.istio.io`, any version), `PeerAuthentication` (`security.istio.io`, `v1` or `v1beta1`;
/// any version is read) and `AuthorizationPolicy` (`security.istio.io/v1` or `v1beta1` only: another version
/// is an error, as skipping a policy could let traffic through), Gateway API `Gateway` (waypoints only),
/// `HTTPRoute` (`v1`, `v1beta1`), `GRPCRoute` (`v1`), and `VirtualService` and `DestinationRule`
/// (`networking.istio.io/v1`, `v1beta1`, `v1alpha3`), and Weft's own `LocalRateLimitPolicy`
/// (`weft.dev/v1alpha1`), expanding `List` documents as kubectl writes them. Other kinds
/// are skipped with a warning, empty documents silently, and unknown fields are ignored. Every problem
/// becomes a ``Diagnostic`` with its file, line, object and field; any error withholds the snapshot.
public enum ManifestLoader {
    /// Loads manifests from files and directories.
    ///
    /// - Parameters:
    ///   - paths: Files (read whatever their extension) or directories (their `*.yaml` and `*.yml` files,
    ///     recursively, in path order, skipping names that start with `.`).
    ///   - trustDomain: The SPIFFE trust domain of the snapshot.
    ///   - rootNamespace: Istio's root namespace, whose selector-less PeerAuthentication and
    ///     AuthorizationPolicies are mesh-wide.
    /// - Returns: The snapshot, or `nil` with the errors that prevent it, and all diagnostics. A path that
    ///   does not exist or cannot be read is an error at line 0.
    public static func load(
        paths: [String], trustDomain: String = "cluster.local", rootNamespace: String = "istio-system"
    ) -> ManifestLoadResult {
        let log = DiagnosticLog()
        let sources = ManifestFileCollector.sources(paths: paths, log: log)
        return load(sources: sources, trustDomain: trustDomain, rootNamespace: rootNamespace, log: log)
    }

    /// Loads manifests from in-memory sources, as for hot reload or tests.
    ///
    /// - Parameters:
    ///   - sources: (file name, YAML text) pairs; the name is what diagnostics show as the file.
    ///   - trustDomain: The SPIFFE trust domain of the snapshot.
    ///   - rootNamespace: Istio's root namespace, whose selector-less PeerAuthentication is mesh-wide.
    /// - Returns: The snapshot, or `nil` with the errors that prevent it, and all diagnostics.
    public static func load(
        sources: [(name: String, text: String)], trustDomain: String = "cluster.local",
        rootNamespace: String = "istio-system"
    ) -> ManifestLoadResult {
        load(sources: sources, trustDomain: trustDomain, rootNamespace: rootNamespace, log: DiagnosticLog())
    }

    private static func load(
        sources: [(name: String, text: String)], trustDomain: String, rootNamespace: String, log: DiagnosticLog
    ) -> ManifestLoadResult {
        var objects: [TranslatedObject] = []
        for source in sources {
            objects += DocumentTranslator.translate(name: source.name, text: source.text, log: log)
        }
        let assembly = SnapshotAssembler.assemble(
            objects, trustDomain: trustDomain, rootNamespace: rootNamespace, log: log)
        return ManifestLoadResult(snapshot: assembly?.snapshot, diagnostics: log.sorted, routes: assembly?.routes,
            traffic: assembly?.traffic)
    }
}
