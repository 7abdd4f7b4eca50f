// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel

/// A PeerAuthentication manifest (security.istio.io/v1) with `body` as its spec lines, indented by two.
private func peerAuthenticationYAML(_ name: String, namespace: String, spec body: String = "") -> String {
    """
    apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata:
      name: \(name)
      namespace: \(namespace)
    """ + (body.isEmpty ? "" : "\nspec:\n" + body.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
}

@Suite struct PeerAuthenticationTranslationTests {
    @Test(arguments: ["security.istio.io/v1", "security.istio.io/v1beta1"])
    func readsEveryField(apiVersion: String) throws {
        let result = load(
            """
            apiVersion: \(apiVersion)
            kind: PeerAuthentication
            metadata:
              name: billing-strict
              namespace: payments
            spec:
              selector:
                matchLabels:
                  app: billing
                  tier: backend
              mtls:
                mode: STRICT
              portLevelMtls:
                8080:
                  mode: PERMISSIVE
                "9090":
                  mode: DISABLE
                9443: {}
            """)
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.peerAuthentications.count == 1)
        let policy = try #require(snapshot.peerAuthentications.first)
        #expect(policy.name == "billing-strict")
        #expect(policy.namespace == "payments")
        #expect(policy.selector == LabelSelector(["app": "billing", "tier": "backend"]))
        #expect(policy.mode == .strict)
        #expect(policy.portModes == [8080: .permissive, 9090: .disable, 9443: .unset])
    }

    @Test func defaults() throws {
        let result = load(
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: no-spec}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: empty-mtls, namespace: shop}
            spec:
              selector: {matchLabels: {}}
              mtls: {}
            """)
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let policies = try #require(result.snapshot?.peerAuthentications)
        #expect(
            policies == [
                PeerAuthentication(name: "no-spec", namespace: "default", mode: .unset),
                PeerAuthentication(name: "empty-mtls", namespace: "shop", mode: .unset),
            ])
        #expect(result.snapshot?.rootNamespace == "istio-system")
    }

    @Test(arguments: [
        ("UNSET", PeerAuthentication.Mode.unset), ("PERMISSIVE", .permissive), ("STRICT", .strict),
        ("DISABLE", .disable),
    ])
    func readsEveryMode(text: String, mode: PeerAuthentication.Mode) throws {
        let result = load(peerAuthenticationYAML("p", namespace: "shop", spec: "mtls: {mode: \(text)}"))
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        #expect(result.snapshot?.peerAuthentications.first?.mode == mode)
    }

    @Test func badModeIsAnError() throws {
        let result = load(
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata:
              name: bad
              namespace: shop
            spec:
              mtls:
                mode: strict
            """, file: "pa.yaml")
        #expect(result.snapshot == nil)
        let diagnostic = try #require(result.single)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.line == 8)
        #expect(diagnostic.object == "PeerAuthentication/shop/bad")
        #expect(diagnostic.field == "spec.mtls.mode")
        #expect(diagnostic.message == "unknown value \"strict\"; use one of UNSET, PERMISSIVE, STRICT, DISABLE")
    }

    @Test func badPortLevelModeAndShapes() throws {
        let result = load(
            peerAuthenticationYAML(
                "bad", namespace: "shop",
                spec: """
                    selector: {matchLabels: {app: web}}
                    mtls: {mode: 1}
                    portLevelMtls:
                      8080:
                        mode: MUTUAL
                      9090: STRICT
                    """))
        #expect(result.snapshot == nil)
        #expect(
            result.diagnostics.map(\.field)
                == ["spec.mtls.mode", "spec.portLevelMtls.8080.mode", "spec.portLevelMtls.9090"])
        #expect(result.diagnostics.map(\.line) == [8, 11, 12])
        #expect(result.diagnostics[0].message.hasPrefix("must be a string, got integer 1"))
        #expect(result.diagnostics[1].message.hasPrefix("unknown value \"MUTUAL\"; use one of UNSET, PERMISSIVE"))
        #expect(result.diagnostics[2].message == "must be a mapping, got \"STRICT\"")
    }

    @Test(arguments: ["0", "65536", "http", "-1", "\"80a\""])
    func badPortKeyIsAnError(key: String) throws {
        let result = load(
            peerAuthenticationYAML(
                "ports", namespace: "shop",
                spec: """
                    selector: {matchLabels: {app: web}}
                    portLevelMtls:
                      8080: {mode: STRICT}
                      \(key):
                        mode: STRICT
                    """))
        #expect(result.snapshot == nil)
        let diagnostic = try #require(result.single)
        let bare = key.filter { $0 != "\"" }
        #expect(diagnostic.line == 10)
        #expect(diagnostic.object == "PeerAuthentication/shop/ports")
        #expect(diagnostic.field == "spec.portLevelMtls.\(bare)")
        #expect(
            diagnostic.message
                == "port \"\(bare)\" is not a port number; each portLevelMtls key must be a port between 1 and 65535")
    }

    @Test(arguments: ["", "selector: {matchLabels: {}}\n"])
    func portLevelWithoutSelectorIsIgnoredWithAWarning(selector: String) throws {
        let result = load(
            peerAuthenticationYAML(
                "default", namespace: "shop",
                spec: selector + """
                    mtls: {mode: STRICT}
                    portLevelMtls:
                      8080: {mode: DISABLE}
                    """), file: "pa.yaml")
        let diagnostic = try #require(result.single)
        #expect(diagnostic.severity == .warning)
        #expect(diagnostic.line == (selector.isEmpty ? 8 : 9))
        #expect(diagnostic.field == "spec.portLevelMtls")
        #expect(diagnostic.object == "PeerAuthentication/shop/default")
        #expect(
            diagnostic.message.hasPrefix(
                "portLevelMtls only applies to policies with a selector; it is ignored here"))
        let policy = try #require(result.snapshot?.peerAuthentications.first)
        #expect(policy.selector == nil)
        #expect(policy.mode == .strict)
        #expect(policy.portModes.isEmpty)
    }

    @Test func duplicateIsAnError() throws {
        let result = load(
            peerAuthenticationYAML("p", namespace: "shop", spec: "mtls: {mode: STRICT}") + "\n---\n"
                + peerAuthenticationYAML("p", namespace: "shop", spec: "mtls: {mode: PERMISSIVE}") + "\n---\n"
                + peerAuthenticationYAML("p", namespace: "other") + "\n---\n" + podYAML("p", ip: "10.0.0.1",
                    namespace: "shop"))
        #expect(result.snapshot == nil)
        let diagnostic = try #require(result.single)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.line == 12)
        #expect(diagnostic.field == "metadata.name")
        #expect(diagnostic.object == "PeerAuthentication/shop/p")
        #expect(
            diagnostic.message
                == "duplicate object: PeerAuthentication/shop/p is already defined at test.yaml:4; rename or remove "
                + "one of them")
    }

    @Test func secondSelectorlessPolicyInANamespaceIsAWarning() throws {
        let result = load(
            peerAuthenticationYAML("zeta", namespace: "shop", spec: "mtls: {mode: STRICT}") + "\n---\n"
                + peerAuthenticationYAML("alpha", namespace: "shop", spec: "mtls: {mode: PERMISSIVE}") + "\n---\n"
                + peerAuthenticationYAML(
                    "web-only", namespace: "shop", spec: "selector: {matchLabels: {app: web}}\nmtls: {mode: STRICT}")
                + "\n---\n" + peerAuthenticationYAML("default", namespace: "other"), file: "pa.yaml")
        let diagnostic = try #require(result.single)
        #expect(diagnostic.severity == .warning)
        #expect(diagnostic.line == 4)
        #expect(diagnostic.object == "PeerAuthentication/shop/zeta")
        #expect(diagnostic.field == "metadata.name")
        #expect(diagnostic.message.contains("PeerAuthentication/shop/alpha (pa.yaml:12)"))
        #expect(diagnostic.message.contains("namespace shop; Istio uses only the oldest"))
        #expect(diagnostic.message.contains("alphabetically first name, alpha, so this one is ignored"))
        #expect(result.snapshot?.peerAuthentications.map(\.name) == ["zeta", "alpha", "web-only", "default"])
    }

    @Test func secondMeshWidePolicyNamesTheRootNamespace() throws {
        let text =
            peerAuthenticationYAML("default", namespace: "mesh-root") + "\n---\n"
            + peerAuthenticationYAML("strict", namespace: "mesh-root", spec: "mtls: {mode: STRICT}")
        let result = ManifestLoader.load(sources: [(name: "mesh.yaml", text: text)], rootNamespace: "mesh-root")
        let diagnostic = try #require(result.single)
        #expect(diagnostic.object == "PeerAuthentication/mesh-root/strict")
        #expect(diagnostic.message.contains("the whole mesh (root namespace mesh-root)"))
    }

    @Test func rootNamespacePassesThrough() throws {
        let text = peerAuthenticationYAML("default", namespace: "mesh-root", spec: "mtls: {mode: STRICT}")
        let fromSources = ManifestLoader.load(
            sources: [(name: "a.yaml", text: text)], trustDomain: "example.org", rootNamespace: "mesh-root")
        #expect(fromSources.snapshot?.rootNamespace == "mesh-root")
        #expect(fromSources.snapshot?.trustDomain == "example.org")

        let directory = try makeTemporaryDirectory()
        defer { directory.remove() }
        try write(text, to: "pa.yaml", in: directory.path)
        let fromPaths = ManifestLoader.load(paths: [directory.path], rootNamespace: "mesh-root")
        #expect(fromPaths.diagnostics.isEmpty, "\(fromPaths.printed)")
        #expect(fromPaths.snapshot?.rootNamespace == "mesh-root")
        #expect(fromPaths.snapshot?.trustDomain == "cluster.local")
        #expect(ManifestLoader.load(paths: [directory.path]).snapshot?.rootNamespace == "istio-system")
    }

    @Test func otherGroupIsSkippedWithAHint() throws {
        let result = load("apiVersion: security.example.com/v1\nkind: PeerAuthentication\nmetadata: {name: p}\n")
        let diagnostic = try #require(result.single)
        #expect(diagnostic.severity == .warning)
        #expect(
            diagnostic.message
                == "unknown kind PeerAuthentication in apiVersion security.example.com/v1, skipped; Weft reads "
                + "PeerAuthentication from apiVersion security.istio.io/v1")
        #expect(result.snapshot?.peerAuthentications.isEmpty == true)
    }

    @Test func loadedPoliciesDriveTheResolver() throws {
        let result = load(
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: metrics, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              portLevelMtls:
                15090: {mode: PERMISSIVE}
            """)
        let snapshot = try #require(result.snapshot)
        let web = Workload(kind: .pod, name: "web", namespace: "shop", labels: ["app": "web"], addresses: [])
        func mode(_ port: UInt16) -> PeerAuthentication.Mode {
            PeerAuthentication.effectiveMode(
                for: web, port: port, policies: snapshot.peerAuthentications, rootNamespace: snapshot.rootNamespace
            ).mode
        }
        #expect(mode(15090) == .permissive)
        #expect(mode(8080) == .strict)
    }
}

@Suite struct EffectiveModeTests {
    let web = Workload(kind: .pod, name: "web-1", namespace: "shop", labels: ["app": "web"], addresses: [])
    let db = Workload(kind: .pod, name: "db-1", namespace: "shop", labels: ["app": "db"], addresses: [])
    let meshStrict = PeerAuthentication(name: "default", namespace: "istio-system", mode: .strict)
    let shopPermissive = PeerAuthentication(name: "default", namespace: "shop", mode: .permissive)
    let webStrict = PeerAuthentication(
        name: "web", namespace: "shop", selector: LabelSelector(["app": "web"]), mode: .strict,
        portModes: [8080: .disable, 9090: .unset])

    func resolve(
        _ workload: Workload, port: UInt16 = 80, _ policies: [PeerAuthentication], root: String = "istio-system"
    ) -> (mode: PeerAuthentication.Mode, policy: String?) {
        let result = PeerAuthentication.effectiveMode(
            for: workload, port: port, policies: policies, rootNamespace: root)
        return (result.mode, result.policy.map { "\($0.namespace)/\($0.name)" })
    }

    @Test func defaultIsPermissive() {
        let result = resolve(web, [])
        #expect(result.mode == .permissive && result.policy == nil)
        let unsetEverywhere = [
            PeerAuthentication(name: "default", namespace: "istio-system", mode: .unset),
            PeerAuthentication(name: "default", namespace: "shop", mode: .unset),
        ]
        #expect(resolve(web, unsetEverywhere).mode == .permissive)
        #expect(resolve(web, unsetEverywhere).policy == nil)
    }

    @Test func meshWideStrict() {
        let result = resolve(web, [meshStrict])
        #expect(result.mode == .strict && result.policy == "istio-system/default")
        // The mesh-wide policy lives in the root namespace, whatever it is called.
        #expect(resolve(web, [meshStrict], root: "mesh-root").mode == .permissive)
        let custom = PeerAuthentication(name: "default", namespace: "mesh-root", mode: .strict)
        #expect(resolve(web, [custom], root: "mesh-root").mode == .strict)
    }

    @Test func namespaceOverridesMesh() {
        let result = resolve(web, [meshStrict, shopPermissive])
        #expect(result.mode == .permissive && result.policy == "shop/default")
        let other = Workload(kind: .pod, name: "x", namespace: "other", addresses: [])
        #expect(resolve(other, [meshStrict, shopPermissive]).mode == .strict)
    }

    @Test func selectorOverridesNamespace() {
        let policies = [meshStrict, shopPermissive, webStrict]
        #expect(resolve(web, policies).mode == .strict)
        #expect(resolve(web, policies).policy == "shop/web")
        #expect(resolve(db, policies).mode == .permissive)
        // A selector policy applies only in its own namespace, even in the root namespace.
        let rootSelector = PeerAuthentication(
            name: "web", namespace: "istio-system", selector: LabelSelector(["app": "web"]), mode: .disable)
        #expect(resolve(web, [meshStrict, rootSelector]).mode == .strict)
        // An empty selector is namespace-wide, as in Istio.
        let emptySelector = PeerAuthentication(
            name: "all", namespace: "shop", selector: LabelSelector([:]), mode: .disable)
        #expect(resolve(db, [meshStrict, emptySelector]).mode == .disable)
    }

    @Test func portLevelOverride() {
        let policies = [meshStrict, shopPermissive, webStrict]
        #expect(resolve(web, port: 8080, policies).mode == .disable)
        #expect(resolve(web, port: 8080, policies).policy == "shop/web")
        #expect(resolve(web, port: 8081, policies).mode == .strict)
        // Port-level modes only apply to the workloads the selector matches.
        #expect(resolve(db, port: 8080, policies).mode == .permissive)
    }

    @Test func unsetInheritsFromTheNextScope() {
        // Port UNSET inherits the policy's mode.
        #expect(resolve(web, port: 9090, [shopPermissive, webStrict]).mode == .strict)
        // Policy UNSET (and port UNSET) inherits the namespace; namespace UNSET inherits the mesh.
        let webUnset = PeerAuthentication(
            name: "web", namespace: "shop", selector: LabelSelector(["app": "web"]), mode: .unset,
            portModes: [9090: .unset, 8080: .strict])
        let shopUnset = PeerAuthentication(name: "default", namespace: "shop", mode: .unset)
        #expect(resolve(web, port: 9090, [meshStrict, shopPermissive, webUnset]).mode == .permissive)
        let inherited = resolve(web, port: 9090, [meshStrict, shopUnset, webUnset])
        #expect(inherited.mode == .strict && inherited.policy == "istio-system/default")
        #expect(resolve(web, port: 8080, [shopPermissive, webUnset]).mode == .strict)
    }

    @Test func alphabeticallyFirstNamespacePolicyWins() {
        let zeta = PeerAuthentication(name: "zeta", namespace: "shop", mode: .strict)
        let alpha = PeerAuthentication(name: "alpha", namespace: "shop", mode: .disable)
        #expect(resolve(web, [zeta, alpha]).policy == "shop/alpha")
    }
}

@Suite struct EnrollmentTests {
    func snapshot(namespaceLabels: [String: String]) -> MeshSnapshot {
        MeshSnapshot(namespaces: [MeshNamespace(name: "shop", labels: namespaceLabels)])
    }

    func pod(_ labels: [String: String] = [:], namespace: String = "shop") -> Workload {
        Workload(kind: .pod, name: "p", namespace: namespace, labels: labels, addresses: [])
    }

    @Test func namespaceAmbient() {
        let ambient = snapshot(namespaceLabels: [Enrollment.dataplaneModeLabel: "ambient"])
        #expect(Enrollment.isAmbient(pod(), in: ambient))
        #expect(!Enrollment.isAmbient(pod(namespace: "elsewhere"), in: ambient))
        #expect(!Enrollment.isAmbient(pod(), in: snapshot(namespaceLabels: [:])))
        #expect(!Enrollment.isAmbient(pod(), in: snapshot(namespaceLabels: [Enrollment.dataplaneModeLabel: "none"])))
    }

    @Test func podOptsOut() {
        let ambient = snapshot(namespaceLabels: [Enrollment.dataplaneModeLabel: "ambient"])
        #expect(!Enrollment.isAmbient(pod([Enrollment.dataplaneModeLabel: "none"]), in: ambient))
    }

    @Test func podOptsIn() {
        let plain = snapshot(namespaceLabels: [:])
        #expect(Enrollment.isAmbient(pod([Enrollment.dataplaneModeLabel: "ambient"]), in: plain))
        #expect(Enrollment.isAmbient(pod([Enrollment.dataplaneModeLabel: "ambient"], namespace: "unknown"), in: plain))
    }

    @Test func loadedLabelsDriveEnrollment() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
              labels: {istio.io/dataplane-mode: ambient}
            ---

            """ + podYAML("web", ip: "10.0.0.1", namespace: "shop"))
        let snapshot = try #require(result.snapshot)
        let web = try #require(snapshot.workloads.first)
        #expect(Enrollment.isAmbient(web, in: snapshot))
    }
}
