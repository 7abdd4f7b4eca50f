// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel
import WeftPolicy

/// An AuthorizationPolicy manifest named `p` in `shop` with `body` as its spec lines (indented by two);
/// the first spec line is line 7.
private func policyYAML(
    _ body: String, name: String = "p", namespace: String = "shop", apiVersion: String = "security.istio.io/v1"
) -> String {
    """
    apiVersion: \(apiVersion)
    kind: AuthorizationPolicy
    metadata:
      name: \(name)
      namespace: \(namespace)
    spec:
    """ + "\n" + body.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }.joined(separator: "\n")
}

private typealias Policy = AuthorizationPolicy

@Suite("AuthorizationPolicy translation")
struct AuthorizationPolicyTranslationTests {
    @Test(arguments: ["security.istio.io/v1", "security.istio.io/v1beta1"])
    func readsEveryL4Field(apiVersion: String) throws {
        let result = load(
            policyYAML(
                """
                selector:
                  matchLabels: {app: web}
                action: DENY
                rules:
                - from:
                  - source:
                      principals: ["cluster.local/ns/foo/sa/client", "*/sa/admin"]
                      notPrincipals: ["cluster.local/ns/foo/sa/bad"]
                      ipBlocks: ["10.0.0.0/8", "fd00::1"]
                      notIpBlocks: ["10.9.0.0/16"]
                  - source:
                      namespaces: ["foo", "bar*"]
                      notNamespaces: ["*-test"]
                  - source:
                      serviceAccounts: ["foo/client", "local"]
                      notServiceAccounts: ["foo/bad"]
                  to:
                  - operation:
                      ports: ["8080", "0"]
                      notPorts: ["65535"]
                  when:
                  - key: source.ip
                    values: ["10.0.0.0/8"]
                    notValues: ["10.0.0.1"]
                  - key: destination.port
                    notValues: ["15021"]
                - {}
                """, apiVersion: apiVersion), file: "authz.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let policy = try #require(result.snapshot?.authorizationPolicies.first)
        let expected = Policy(
            name: "p", namespace: "shop", location: ManifestLocation(file: "authz.yaml", line: 4),
            scope: .selector(LabelSelector(["app": "web"])), action: .deny,
            rules: [
                Policy.Rule(
                    index: 0,
                    from: [
                        Policy.Source(
                            principals: ["cluster.local/ns/foo/sa/client", "*/sa/admin"],
                            notPrincipals: ["cluster.local/ns/foo/sa/bad"],
                            ipBlocks: [IPPrefix(address: ip("10.0.0.0"), length: 8), IPPrefix(ip("fd00::1"))],
                            notIpBlocks: [IPPrefix(address: ip("10.9.0.0"), length: 16)]),
                        Policy.Source(namespaces: ["foo", "bar*"], notNamespaces: ["*-test"]),
                        Policy.Source(serviceAccounts: ["foo/client", "local"], notServiceAccounts: ["foo/bad"]),
                    ],
                    to: [Policy.Operation(ports: [8080, 0], notPorts: [65535])],
                    when: [
                        Policy.Condition(key: "source.ip", values: ["10.0.0.0/8"], notValues: ["10.0.0.1"]),
                        Policy.Condition(key: "destination.port", notValues: ["15021"]),
                    ]),
                Policy.Rule(index: 1),
            ])
        #expect(policy == expected)
    }

    @Test func readsHTTPFieldsAndTargetRefs() throws {
        let result = load(
            policyYAML(
                """
                targetRefs:
                - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}
                - {kind: Service, name: web}
                rules:
                - from:
                  - source:
                      requestPrincipals: ["issuer/sub"]
                      notRequestPrincipals: ["issuer/bad"]
                      remoteIpBlocks: ["192.168.0.0/16"]
                      notRemoteIpBlocks: ["192.168.1.1"]
                      trustDomains: ["cluster.local"]
                      notTrustDomains: ["old.td"]
                  to:
                  - operation:
                      hosts: ["web.shop.svc.cluster.local"]
                      notHosts: ["evil"]
                      methods: ["GET"]
                      notMethods: ["DELETE"]
                      paths: ["/api/{*}/items/{**}"]
                      notPaths: ["/admin*"]
                  when:
                  - key: request.headers[x-token]
                    values: ["secret"]
                """))
        #expect(result.errors.isEmpty, "\(result.printed)")
        #expect(result.warnings.map(\.field) == ["spec.targetRefs"])
        #expect(
            result.warnings.first?.message
                == "targetRefs binds this policy to a waypoint (Gateway.gateway.networking.k8s.io/waypoint, Service/web); "
                + "the node does not enforce it")
        let policy = try #require(result.snapshot?.authorizationPolicies.first)
        #expect(
            policy.scope
                == .targetRefs([
                    .init(group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint"),
                    .init(group: "", kind: "Service", name: "web"),
                ]))
        let rule = try #require(policy.rules.first)
        #expect(
            rule.from == [
                Policy.Source(
                    requestPrincipals: ["issuer/sub"], notRequestPrincipals: ["issuer/bad"],
                    remoteIpBlocks: [IPPrefix(address: ip("192.168.0.0"), length: 16)],
                    notRemoteIpBlocks: [IPPrefix(ip("192.168.1.1"))], trustDomains: ["cluster.local"],
                    notTrustDomains: ["old.td"])
            ])
        #expect(
            rule.to == [
                Policy.Operation(
                    hosts: ["web.shop.svc.cluster.local"], notHosts: ["evil"], methods: ["GET"], notMethods: ["DELETE"],
                    paths: ["/api/{*}/items/{**}"], notPaths: ["/admin*"])
            ])
        #expect(rule.when == [Policy.Condition(key: "request.headers[x-token]", values: ["secret"])])
        #expect(PolicySet(snapshot: try #require(result.snapshot)).waypointPolicies == [policy])
    }

    @Test func defaultsAndEmptyPolicies() throws {
        let result = load(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: no-spec}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-nothing, namespace: shop}
            spec: {}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-all, namespace: shop}
            spec:
              rules: [{}]
            """)
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let policies = try #require(result.snapshot?.authorizationPolicies)
        #expect(policies.map(\.key) == ["default/no-spec", "shop/allow-nothing", "shop/allow-all"])
        #expect(policies.map(\.action) == [.allow, .allow, .allow])
        #expect(policies.map(\.scope) == [.namespace, .namespace, .namespace])
        #expect(policies.map(\.rules) == [[], [], [Policy.Rule(index: 0)]])
        #expect(policies.map { $0.location?.line } == [3, 7, 12])
    }

    @Test func rootNamespacePolicyIsMeshWideEndToEnd() throws {
        let manifest = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-foo, namespace: mesh-root}
            spec:
              rules:
              - from: [{source: {namespaces: ["foo"]}}]
            """
        let result = ManifestLoader.load(sources: [("mesh.yaml", manifest)], rootNamespace: "mesh-root")
        let set = PolicySet(snapshot: try #require(result.snapshot))
        func facts(_ peerNamespace: String) -> ConnectionFacts {
            ConnectionFacts(
                sourceIP: ip("10.0.0.1"),
                sourceIdentity: SPIFFEID(trustDomain: "cluster.local", namespace: peerNamespace, serviceAccount: "sa"),
                destinationIP: ip("10.0.0.2"), destinationPort: 80, destinationNamespace: "anywhere")
        }
        #expect(set.evaluate(facts("foo")).isAllowed)
        let denied = set.evaluate(facts("bar"))
        #expect(denied.verdict == .deny)
        #expect(set.explain(facts("bar")).reason == "denied: no ALLOW policy matched; 1 ALLOW policy applies: mesh-root/allow-foo (mesh.yaml:3)")
        let defaultRoot = PolicySet(snapshot: try #require(load(manifest).snapshot))
        #expect(defaultRoot.evaluate(facts("bar")).isAllowed, "mesh-root is an ordinary namespace when the root is istio-system")
    }

    @Test func listsAndDuplicates() throws {
        let result = load(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicyList
            items:
            - metadata: {name: a, namespace: shop}
              spec: {action: DENY, rules: [{}]}
            - metadata: {name: a, namespace: shop}
              spec: {}
            """)
        #expect(result.snapshot == nil)
        let error = try #require(result.single)
        #expect(error.line == 6)
        #expect(error.message.hasPrefix("duplicate object: AuthorizationPolicy/shop/a is already defined at test.yaml:4"))
    }

    @Test func dryRunAnnotation() throws {
        let result = load(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: trial
              namespace: shop
              annotations:
                istio.io/dry-run: "true"
            spec:
              action: DENY
              rules: [{}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: typo
              namespace: shop
              annotations: {istio.io/dry-run: "yes"}
            spec: {}
            """, file: "dry.yaml")
        #expect(result.printed == [
            "dry.yaml:7: AuthorizationPolicy/shop/trial: metadata.annotations[\"istio.io/dry-run\"]: warning: dry-run: the policy is evaluated and shown by weft explain, but not enforced",
            "dry.yaml:17: AuthorizationPolicy/shop/typo: metadata.annotations[\"istio.io/dry-run\"]: warning: \"yes\" is not true or false; the policy is enforced (not dry-run)",
        ])
        #expect(result.snapshot?.authorizationPolicies.map(\.dryRun) == [true, false])
    }
}

/// One rejected manifest: its spec, and the single error expected.
struct AuthorizationErrorCase: Sendable, CustomStringConvertible {
    var name: String
    var spec: String
    var line: Int
    var field: String
    var message: String
    var description: String { name }
}

@Suite("AuthorizationPolicy errors")
struct AuthorizationPolicyErrorTests {
    static let cases: [AuthorizationErrorCase] = [
        .init(
            name: "unknown action", spec: "action: PERMIT", line: 7, field: "spec.action",
            message: "unknown value \"PERMIT\"; use one of ALLOW, DENY, AUDIT, CUSTOM"),
        .init(
            name: "malformed CIDR", spec: "rules:\n- from:\n  - source:\n      ipBlocks: [\"10.0.0.1\", \"10.0.0.0/33\"]",
            line: 10, field: "spec.rules[0].from[0].source.ipBlocks[1]",
            message: "\"10.0.0.0/33\" is not a CIDR or IP address; write an address such as 10.0.0.1 or fd00::1, or a block such as 10.0.0.0/16 or fd00::/64"),
        .init(
            name: "malformed notIpBlocks IPv6", spec: "rules:\n- from:\n  - source:\n      notIpBlocks: [\"fd00::/129\"]",
            line: 10, field: "spec.rules[0].from[0].source.notIpBlocks[0]",
            message: "\"fd00::/129\" is not a CIDR or IP address; write an address such as 10.0.0.1 or fd00::1, or a block such as 10.0.0.0/16 or fd00::/64"),
        .init(
            name: "malformed remoteIpBlocks", spec: "rules:\n- from:\n  - source:\n      remoteIpBlocks: [\"example.com\"]",
            line: 10, field: "spec.rules[0].from[0].source.remoteIpBlocks[0]",
            message: "\"example.com\" is not a CIDR or IP address; write an address such as 10.0.0.1 or fd00::1, or a block such as 10.0.0.0/16 or fd00::/64"),
        .init(
            name: "non-numeric port", spec: "rules:\n- to:\n  - operation:\n      ports: [\"http\"]", line: 10,
            field: "spec.rules[0].to[0].operation.ports[0]",
            message: "\"http\" is not a port number; write a number between 0 and 65535 as a string, e.g. \"8080\""),
        .init(
            name: "out-of-range notPort", spec: "rules:\n- to:\n  - operation:\n      notPorts: [\"65536\"]", line: 10,
            field: "spec.rules[0].to[0].operation.notPorts[0]",
            message: "\"65536\" is not a port number; write a number between 0 and 65535 as a string, e.g. \"8080\""),
        .init(
            name: "integer port", spec: "rules:\n- to:\n  - operation:\n      ports: [8080]", line: 10,
            field: "spec.rules[0].to[0].operation.ports[0]", message: "must be a string, got integer 8080; quote it: \"8080\""),
        .init(
            name: "selector and targetRefs",
            spec: "selector: {matchLabels: {app: web}}\ntargetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: w}]",
            line: 8, field: "spec.targetRefs",
            message: "only one of selector, targetRef and targetRefs may be set; selector picks workloads for the node, targetRefs binds the policy to a waypoint"),
        .init(
            name: "rules not a list", spec: "rules: {from: []}", line: 7, field: "spec.rules", message: "must be a list, got a mapping"),
        .init(
            name: "principals not a list", spec: "rules:\n- from:\n  - source: {principals: \"cluster.local/ns/a/sa/b\"}",
            line: 9, field: "spec.rules[0].from[0].source.principals", message: "must be a list, got \"cluster.local/ns/a/sa/b\""),
        .init(
            name: "source not a mapping", spec: "rules:\n- from:\n  - source: [a]", line: 9, field: "spec.rules[0].from[0].source",
            message: "must be a mapping, got a list"),
        .init(
            name: "empty string value", spec: "rules:\n- from:\n  - source:\n      namespaces: [\"foo\", \"\"]", line: 10,
            field: "spec.rules[0].from[0].source.namespaces[1]", message: "empty value not allowed; remove it or write a value"),
        .init(
            name: "CUSTOM without provider", spec: "action: CUSTOM\nrules: [{}]", line: 7, field: "spec.action",
            message: "action CUSTOM needs provider.name, the extension provider (from the mesh config) that decides"),
        .init(
            name: "CUSTOM with empty provider name", spec: "action: CUSTOM\nprovider: {name: \"\"}\nrules: [{}]", line: 8,
            field: "spec.provider.name",
            message: "action CUSTOM needs provider.name, the extension provider (from the mesh config) that decides"),
        .init(
            name: "CUSTOM without rules", spec: "action: CUSTOM\nprovider: {name: opa}", line: 7, field: "spec.action",
            message: "CUSTOM without rules never matches and has no effect; add the rules, or rules: [{}] to match every connection"),
        .init(
            name: "provider without CUSTOM", spec: "provider: {name: opa}\nrules: [{}]", line: 7, field: "spec.provider",
            message: "provider is only allowed with action CUSTOM; remove it or set action: CUSTOM"),
        .init(
            name: "DENY without rules", spec: "action: DENY", line: 7, field: "spec.action",
            message: "DENY without rules never matches and has no effect; add the rules, or rules: [{}] to match every connection"),
        .init(
            name: "when without values", spec: "rules:\n- when:\n  - key: source.ip", line: 9, field: "spec.rules[0].when[0]",
            message: "at least one of values or notValues must be set for key source.ip"),
        .init(
            name: "when without key", spec: "rules:\n- when:\n  - values: [a]", line: 9, field: "spec.rules[0].when[0].key",
            message: "missing spec.rules[0].when[0].key; name the attribute to test, e.g. source.ip"),
        .init(
            name: "when unknown key", spec: "rules:\n- when:\n  - key: source.port\n    values: [\"80\"]", line: 9,
            field: "spec.rules[0].when[0].key",
            message: "unknown key \"source.port\"; use one of source.ip, source.namespace, source.principal, destination.ip, destination.port (enforced at the node), or an HTTP attribute such as request.headers[<name>] (waypoint only)"),
        .init(
            name: "when replaced key", spec: "rules:\n- when:\n  - key: destination.namespace\n    values: [shop]", line: 9,
            field: "spec.rules[0].when[0].key",
            message: "key destination.namespace is not supported; the policy's own metadata.namespace selects the destination namespace"),
        .init(
            name: "when header key without name", spec: "rules:\n- when:\n  - key: request.headers[]\n    values: [a]", line: 9,
            field: "spec.rules[0].when[0].key", message: "key \"request.headers[]\" must have the form request.headers[<name>]"),
        .init(
            name: "when source.ip bad value", spec: "rules:\n- when:\n  - key: source.ip\n    notValues: [\"10.0.0.256\"]", line: 10,
            field: "spec.rules[0].when[0].notValues[0]",
            message: "\"10.0.0.256\" is not a CIDR or IP address; write an address such as 10.0.0.1 or fd00::1, or a block such as 10.0.0.0/16 or fd00::/64"),
        .init(
            name: "when destination.port bad value", spec: "rules:\n- when:\n  - key: destination.port\n    values: [\"-1\"]", line: 10,
            field: "spec.rules[0].when[0].values[0]",
            message: "\"-1\" is not a port number; write a number between 0 and 65535 as a string, e.g. \"8080\""),
        .init(
            name: "when source.serviceAccount wildcard", spec: "rules:\n- when:\n  - key: source.serviceAccount\n    values: [\"ns/*\"]",
            line: 10, field: "spec.rules[0].when[0].values[0]",
            message: "\"ns/*\": wildcards are not allowed in service accounts; write <namespace>/<service-account> or <service-account>"),
        .init(
            name: "serviceAccounts wildcard", spec: "rules:\n- from:\n  - source: {serviceAccounts: [\"*\"]}", line: 9,
            field: "spec.rules[0].from[0].source.serviceAccounts[0]",
            message: "\"*\": wildcards are not allowed in service accounts; write <namespace>/<service-account> or <service-account>"),
        .init(
            name: "serviceAccounts bad form", spec: "rules:\n- from:\n  - source: {notServiceAccounts: [\"a/b/c\"]}", line: 9,
            field: "spec.rules[0].from[0].source.notServiceAccounts[0]", message: "\"a/b/c\" is not <namespace>/<service-account> or <service-account>"),
        .init(
            name: "serviceAccounts with namespaces", spec: "rules:\n- from:\n  - source: {namespaces: [a], serviceAccounts: [a/b]}",
            line: 9, field: "spec.rules[0].from[0].source.serviceAccounts",
            message: "cannot be combined with namespaces in the same source; put them in separate from entries"),
        .init(
            name: "more than 16 serviceAccounts",
            spec: "rules:\n- from:\n  - source: {serviceAccounts: [" + (1...17).map { "s\($0)" }.joined(separator: ", ") + "]}", line: 9,
            field: "spec.rules[0].from[0].source.serviceAccounts",
            message: "has 17 values; at most 16 are allowed — split the source into several from entries"),
        .init(
            name: "empty from", spec: "rules:\n- from: []", line: 8, field: "spec.rules[0].from",
            message: "must not be empty; remove from to match any source, or add an entry"),
        .init(
            name: "empty to", spec: "rules:\n- to: []", line: 8, field: "spec.rules[0].to",
            message: "must not be empty; remove to to match any operation, or add an entry"),
        .init(
            name: "missing source", spec: "rules:\n- from:\n  - {}", line: 9, field: "spec.rules[0].from[0].source",
            message: "missing spec.rules[0].from[0].source; each entry needs a source with at least one field"),
        .init(
            name: "empty source", spec: "rules:\n- from:\n  - source: {principals: []}", line: 9, field: "spec.rules[0].from[0].source",
            message: "must set at least one of principals, notPrincipals, requestPrincipals, notRequestPrincipals, namespaces, notNamespaces, serviceAccounts, notServiceAccounts, ipBlocks, notIpBlocks, remoteIpBlocks, notRemoteIpBlocks, trustDomains, notTrustDomains; remove the entry to match any source"),
        .init(
            name: "empty operation", spec: "rules:\n- to:\n  - operation: {}", line: 9, field: "spec.rules[0].to[0].operation",
            message: "must set at least one of ports, notPorts, hosts, notHosts, methods, notMethods, paths, notPaths; remove the entry to match any operation"),
        .init(
            name: "null rule", spec: "rules:\n- ", line: 8, field: "spec.rules[0]",
            message: "each rule must be a mapping (use {} for a rule that matches everything), got null"),
        .init(
            name: "unsupported target kind", spec: "targetRefs: [{kind: Deployment, group: apps, name: web}]", line: 7,
            field: "spec.targetRefs[0].kind",
            message: "target apps/Deployment is not supported; use one of Gateway (gateway.networking.k8s.io), GatewayClass (gateway.networking.k8s.io), Service, ServiceEntry (networking.istio.io)"),
        .init(
            name: "cross-namespace target", spec: "targetRefs:\n- kind: Service\n  name: web\n  namespace: other", line: 10,
            field: "spec.targetRefs[0].namespace",
            message: "cross-namespace targets are not supported; remove namespace (the policy's namespace is used)"),
        .init(
            name: "wildcard selector", spec: "selector:\n  matchLabels:\n    app: \"web*\"", line: 9, field: "spec.selector.matchLabels.app",
            message: "wildcards are not supported in selectors: \"app=web*\""),
        .init(
            name: "bad path template", spec: "rules:\n- to:\n  - operation: {paths: [\"/a/{**}/b/{*}\"]}", line: 9,
            field: "spec.rules[0].to[0].operation.paths[0]",
            message: "\"/a/{**}/b/{*}\" is not a valid path template: {**} must be the last operator"),
        .init(
            name: "CUSTOM with principals",
            spec: "action: CUSTOM\nprovider: {name: opa}\nrules:\n- from:\n  - source: {principals: [a]}", line: 11,
            field: "spec.rules[0].from[0].source.principals",
            message: "is not supported with action CUSTOM; the external authorizer decides on identity"),
        .init(
            name: "too many rules", spec: "rules:\n" + String(repeating: "- {}\n", count: 513), line: 7, field: "spec.rules",
            message: "has 513 rules; Istio allows at most 512"),
    ]

    @Test(arguments: cases)
    func rejected(_ row: AuthorizationErrorCase) throws {
        let result = load(policyYAML(row.spec), file: "authz.yaml")
        #expect(result.snapshot == nil)
        #expect(result.errors.count == 1, "\(result.printed)")
        let error = try #require(result.errors.first)
        #expect(error.file == "authz.yaml")
        #expect(error.line == row.line, "\(error)")
        #expect(error.object == "AuthorizationPolicy/shop/p")
        #expect(error.field == row.field)
        #expect(error.message == row.message)
    }

    @Test func printedForm() throws {
        let result = load(policyYAML("rules:\n- from:\n  - source:\n      ipBlocks: [\"10.0.0.1\", \"10.0.0.0/33\"]"), file: "authz.yaml")
        #expect(
            result.printed.first?.hasPrefix(
                "authz.yaml:10: AuthorizationPolicy/shop/p: spec.rules[0].from[0].source.ipBlocks[1]: \"10.0.0.0/33\" is not a CIDR or IP address")
                == true)
    }

    @Test func unsupportedVersionIsAnError() throws {
        let result = load(policyYAML("rules: [{}]", apiVersion: "security.istio.io/v2"), file: "authz.yaml")
        let error = try #require(result.single)
        #expect(error.severity == .error)
        #expect(error.line == 1)
        #expect(error.field == "apiVersion")
        #expect(
            error.message
                == "AuthorizationPolicy apiVersion security.istio.io/v2 is not supported; use security.istio.io/v1 (or security.istio.io/v1beta1) — the policy was not loaded")
    }
}

/// A field only a waypoint enforces, written as rule 0 of a policy, with where it is.
struct WaypointFieldCase: Sendable, CustomStringConvertible {
    var rule: String
    var line: Int
    var field: String
    var subject: String
    var description: String { subject }

    static func source(_ key: String, _ value: String) -> Self {
        .init(rule: "- from:\n  - source:\n      \(key): [\"\(value)\"]", line: 10, field: "spec.rules[0].from[0].source.\(key)", subject: key)
    }
    static func operation(_ key: String, _ value: String) -> Self {
        .init(rule: "- to:\n  - operation:\n      \(key): [\"\(value)\"]", line: 10, field: "spec.rules[0].to[0].operation.\(key)", subject: key)
    }
    static func when(_ key: String, _ value: String = "a") -> Self {
        .init(rule: "- when:\n  - key: \(key)\n    values: [\"\(value)\"]", line: 9, field: "spec.rules[0].when[0].key", subject: "key \(key)")
    }
}

@Suite("AuthorizationPolicy warnings")
struct AuthorizationPolicyWarningTests {
    static let waypointFields: [WaypointFieldCase] = [
        .source("requestPrincipals", "issuer/sub"), .source("notRequestPrincipals", "issuer/sub"),
        .source("remoteIpBlocks", "10.0.0.0/8"), .source("notRemoteIpBlocks", "10.0.0.1"),
        .source("trustDomains", "cluster.local"), .source("notTrustDomains", "other"),
        .operation("hosts", "web"), .operation("notHosts", "web"), .operation("methods", "GET"),
        .operation("notMethods", "GET"), .operation("paths", "/a"), .operation("notPaths", "/a"),
        .when("request.headers[x-token]"), .when("request.auth.principal"), .when("request.auth.audiences"),
        .when("request.auth.presenter"), .when("request.auth.claims[iss]"), .when("remote.ip", "10.0.0.1"), .when("connection.sni"),
        .when("source.serviceAccount"), .when("source.trustDomain"),
        .when("experimental.envoy.filters.network.mysql_proxy[db.table]"),
    ]

    @Test("ALLOW: each waypoint-only field drops its rule", arguments: waypointFields)
    func allowDropsRule(_ row: WaypointFieldCase) throws {
        let rule = row.rule
        let result = load(policyYAML("rules:\n" + rule + "\n- to: [{operation: {ports: [\"8080\"]}}]"), file: "authz.yaml")
        #expect(result.errors.isEmpty, "\(result.printed)")
        let warning = try #require(result.single)
        #expect(warning.severity == .warning)
        #expect(warning.line == row.line)
        #expect(warning.field == row.field)
        #expect(warning.message == "\(row.subject) applies only at a waypoint; at the node ALLOW rule 0 is dropped (it matches nothing)")
    }

    @Test("DENY: a waypoint-only field alone leaves the rule without effect", arguments: waypointFields)
    func denyRuleWithoutEffect(_ row: WaypointFieldCase) throws {
        let rule = row.rule
        let result = load(policyYAML("action: DENY\nrules:\n" + rule + "\n- to: [{operation: {ports: [\"22\"]}}]"), file: "authz.yaml")
        #expect(result.errors.isEmpty, "\(result.printed)")
        let warning = try #require(result.single)
        #expect(warning.line == row.line + 1)
        #expect(warning.field == row.field)
        let section = row.field.contains("when") ? "when[0]" : row.field.contains(".from[") ? "from" : "to"
        #expect(
            warning.message
                == "\(row.subject) applies only at a waypoint; at the node DENY rule 0 has no effect: \(section) keeps no L4 field and matches nothing")
    }

    @Test func denyKeepsL4PartAndEmptyEntries() throws {
        let result = load(
            policyYAML(
                """
                action: DENY
                rules:
                - from:
                  - source:
                      principals: ["cluster.local/ns/foo/sa/client"]
                      notRequestPrincipals: ["*"]
                  - source:
                      requestPrincipals: ["issuer/sub"]
                  to:
                  - operation:
                      ports: ["8080"]
                      methods: ["POST"]
                """), file: "authz.yaml")
        #expect(result.errors.isEmpty)
        #expect(result.warnings.map(\.line) == [12, 14, 18])
        #expect(
            result.warnings.map(\.message) == [
                "notRequestPrincipals applies only at a waypoint; at the node only the L4 part of DENY rule 0 is enforced, which denies more than written",
                "requestPrincipals applies only at a waypoint; at the node this entry keeps no L4 field and matches nothing; DENY rule 0 is enforced only through its other entries",
                "methods applies only at a waypoint; at the node only the L4 part of DENY rule 0 is enforced, which denies more than written",
            ])
        let set = PolicySet(snapshot: try #require(result.snapshot))
        let facts = ConnectionFacts(
            sourceIP: ip("10.0.0.1"), sourceIdentity: SPIFFEID(trustDomain: "cluster.local", namespace: "foo", serviceAccount: "client"),
            destinationIP: ip("10.0.0.2"), destinationPort: 8080, destinationNamespace: "shop")
        #expect(set.evaluate(facts).verdict == .deny)
    }

    @Test func policyLevelWarnings() throws {
        let allow = load(policyYAML("rules:\n- to: [{operation: {methods: [GET]}}]"), file: "authz.yaml")
        #expect(
            allow.warnings.map(\.description) == [
                "authz.yaml:7: AuthorizationPolicy/shop/p: spec.rules: warning: every rule of this ALLOW policy is dropped at the node, so it allows nothing there: the workloads it applies to are denied all traffic (fail closed); enforce it at a waypoint with targetRefs",
                "authz.yaml:8: AuthorizationPolicy/shop/p: spec.rules[0].to[0].operation.methods: warning: methods applies only at a waypoint; at the node ALLOW rule 0 is dropped (it matches nothing)",
            ])
        let deny = load(policyYAML("action: DENY\nrules:\n- to: [{operation: {methods: [GET]}}]"), file: "authz.yaml")
        #expect(
            deny.warnings.first?.message
                == "after removing waypoint-only fields this DENY policy has no enforceable rule at the node and no effect there; enforce it at a waypoint with targetRefs")
        #expect(deny.warnings.count == 2)
    }

    @Test func ignoredActions() throws {
        let audit = load(policyYAML("action: AUDIT\nrules: [{to: [{operation: {methods: [GET]}}]}]"), file: "authz.yaml")
        #expect(
            audit.printed == [
                "authz.yaml:7: AuthorizationPolicy/shop/p: spec.action: warning: AUDIT policies only log and are ignored at the node, as ztunnel ignores them"
            ])
        let custom = load(policyYAML("action: CUSTOM\nprovider: {name: opa}\nrules: [{}]"), file: "authz.yaml")
        #expect(
            custom.printed == [
                "authz.yaml:7: AuthorizationPolicy/shop/p: spec.action: warning: CUSTOM (provider opa) runs only at a waypoint; the node ignores this policy, as ztunnel does"
            ])
        #expect(custom.snapshot?.authorizationPolicies.first?.provider == "opa")
    }

    @Test func emptySelectorSelectsTheNamespace() throws {
        let result = load(policyYAML("selector: {matchLabels: {}}\nrules: [{}]"), file: "authz.yaml")
        #expect(result.errors.isEmpty)
        let warning = try #require(result.single)
        #expect(warning.line == 7)
        #expect(warning.field == "spec.selector")
        #expect(warning.message.hasPrefix("selector has no labels, so the policy applies to every workload in the namespace"))
        #expect(result.snapshot?.authorizationPolicies.first?.scope == .namespace)
    }

    @Test func unknownFieldsAreWarnedAbout() throws {
        let result = load(
            policyYAML(
                """
                selectors: {matchLabels: {app: web}}
                rules:
                - from:
                  - source:
                      principal: ["cluster.local/ns/foo/sa/client"]
                      notIPBlocks: ["10.0.0.0/8"]
                      namespaces: [foo]
                  to:
                  - operation: {ports: ["80"], verbs: [GET]}
                  when:
                  - {key: source.ip, value: ["10.0.0.1"], notValues: ["10.0.0.2"]}
                """), file: "authz.yaml")
        #expect(result.errors.isEmpty, "\(result.printed)")
        #expect(
            result.printed == [
                "authz.yaml:7: AuthorizationPolicy/shop/p: spec.selectors: warning: unknown field \"selectors\" is ignored; did you mean selector?",
                "authz.yaml:11: AuthorizationPolicy/shop/p: spec.rules[0].from[0].source.principal: warning: unknown field \"principal\" is ignored; did you mean principals?",
                "authz.yaml:12: AuthorizationPolicy/shop/p: spec.rules[0].from[0].source.notIPBlocks: warning: unknown field \"notIPBlocks\" is ignored; did you mean notIpBlocks?",
                "authz.yaml:15: AuthorizationPolicy/shop/p: spec.rules[0].to[0].operation.verbs: warning: unknown field \"verbs\" is ignored; known fields: ports, notPorts, hosts, notHosts, methods, notMethods, paths, notPaths",
                "authz.yaml:17: AuthorizationPolicy/shop/p: spec.rules[0].when[0].value: warning: unknown field \"value\" is ignored; did you mean values?",
            ])
    }

    @Test func rejectedPoliciesGetNoNodeWarnings() {
        let result = load(policyYAML("rules:\n- to: [{operation: {methods: [GET], ports: [\"x\"]}}]"), file: "authz.yaml")
        #expect(result.diagnostics.map(\.severity) == [.error])
    }
}
