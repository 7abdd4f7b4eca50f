// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// What ``ManifestLoader`` produced: a snapshot when the manifests are valid, and every diagnostic found.
public struct ManifestLoadResult: Sendable {
    /// The mesh described by the manifests; `nil` when any diagnostic is an error.
    public var snapshot: MeshSnapshot?
    /// The HTTPRoutes and GRPCRoutes of the manifests, with their route tables; `nil` when any diagnostic
    /// is an error.
    public var routes: MeshRoutes?
    /// The VirtualServices and DestinationRules, compiled for the waypoint, and the LocalRateLimitPolicies'
    /// limits; `nil` when any diagnostic is an error.
    public var traffic: MeshTrafficPolicies?
    /// Every error and warning, sorted by file and then line (ties keep the order they were found in).
    public var diagnostics: [Diagnostic]

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The diagnostics that are errors.
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    /// The diagnostics that are warnings.
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// References that do not resolve: `weft check` fails on them, the daemons load the configuration anyway.
    public var brokenReferences: [Diagnostic] { diagnostics.filter { $0.severity == .brokenReference } }

    /// Creates a result. Without `routes` (`traffic`), a result with a snapshot has no routes (an empty ``MeshRoutes``)
    /// (no Istio traffic policies).
    public init(
        snapshot: MeshSnapshot?, diagnostics: [Diagnostic], routes: MeshRoutes? = nil,
        traffic: MeshTrafficPolicies? = nil
    ) {
        self.snapshot = snapshot
        self.routes = routes ?? snapshot.map { _ in MeshRoutes() }
        self.traffic = traffic ?? snapshot.map { _ in MeshTrafficPolicies() }
        self.diagnostics = diagnostics
    }
}
