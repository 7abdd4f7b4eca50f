// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Compiles model rules into the shared match structure: a rule is an AND of clauses (`from`, `to`, each
/// `when`), a clause an OR of match groups (its entries), a group an AND of fields — ztunnel's
/// rules → clauses → matches, which is also the shape of Envoy's RBAC policies.
///
/// One compiler serves both enforcement points. For the node it keeps only the attributes ztunnel enforces
/// and projects the rest away as istiod does for ztunnel (see ``NodeEnforcement``); for the waypoint it
/// compiles every field, HTTP ones included, and every rule is enforced as written.
enum RuleCompiler {
    /// Where a rule is enforced.
    enum Enforcer: Hashable, Sendable {
        /// The node (ztunnel's L4 projection).
        case node
        /// A waypoint (the full policy).
        case waypoint
    }

    /// One populated field before compilation: its name in the model, whether the node enforces it, and
    /// how to build its values (only called when the field is compiled).
    private struct FieldSpec {
        var name: String
        var count: Int
        var attribute: FieldMatch.Attribute
        var negated: Bool
        var isNodeEnforced: Bool
        var values: () -> FieldMatch.Values
    }

    static func compile(
        _ rule: AuthorizationPolicy.Rule, for enforcer: Enforcer, action: AuthorizationPolicy.Action,
        policyNamespace: String
    ) -> CompiledRule {
        var waypointOnly: [WaypointOnlyField] = []
        var clauses: [Clause] = []

        if !rule.from.isEmpty {
            let groups = rule.from.enumerated().map { index, source in
                let group = sourceGroup(source, index: index, enforcer: enforcer, policyNamespace: policyNamespace)
                waypointOnly += group.waypointOnly.map {
                    WaypointOnlyField(entry: .from(index), field: $0, entryKeepsNodeFields: !group.fields.isEmpty)
                }
                return group
            }
            clauses.append(Clause(name: "from", groups: groups))
        }
        if !rule.to.isEmpty {
            let groups = rule.to.enumerated().map { index, operation in
                let group = operationGroup(operation, index: index, enforcer: enforcer)
                waypointOnly += group.waypointOnly.map {
                    WaypointOnlyField(entry: .to(index), field: $0, entryKeepsNodeFields: !group.fields.isEmpty)
                }
                return group
            }
            clauses.append(Clause(name: "to", groups: groups))
        }
        for (index, condition) in rule.when.enumerated() {
            let group = conditionGroup(condition, index: index, enforcer: enforcer, policyNamespace: policyNamespace)
            waypointOnly += group.waypointOnly.map {
                WaypointOnlyField(entry: .when(index), field: $0, entryKeepsNodeFields: false)
            }
            clauses.append(Clause(name: "when[\(index)]", groups: [group]))
        }

        let enforcement: NodeEnforcement
        if waypointOnly.isEmpty {
            enforcement = .enforced
        } else if action != .deny {
            enforcement = .dropped
            clauses = []
        } else if clauses.contains(where: { $0.groups.allSatisfy(\.fields.isEmpty) }) {
            enforcement = .noEffect
        } else {
            enforcement = .l4PartOnly
        }
        return CompiledRule(index: rule.index, enforcement: enforcement, clauses: clauses, waypointOnly: waypointOnly)
    }

    // MARK: - Entries

    private static func sourceGroup(
        _ source: AuthorizationPolicy.Source, index: Int, enforcer: Enforcer, policyNamespace: String
    ) -> MatchGroup {
        let strings = { (values: [String]) in { FieldMatch.Values.strings(values.map(StringMatch.init(istio:))) } }
        let accounts = { (values: [String]) in
            { FieldMatch.Values.serviceAccounts(values.map { serviceAccount($0, policyNamespace: policyNamespace) }) }
        }
        let blocks = { (values: [IPPrefix]) in { FieldMatch.Values.blocks(values) } }
        // In the model's order; the node keeps its fields in this order and names the others in it too.
        let specs = [
            FieldSpec(name: "principals", count: source.principals.count, attribute: .sourcePrincipal, negated: false,
                isNodeEnforced: true, values: strings(source.principals)),
            FieldSpec(name: "notPrincipals", count: source.notPrincipals.count, attribute: .sourcePrincipal,
                negated: true, isNodeEnforced: true, values: strings(source.notPrincipals)),
            FieldSpec(name: "requestPrincipals", count: source.requestPrincipals.count, attribute: .requestPrincipal,
                negated: false, isNodeEnforced: false, values: strings(source.requestPrincipals)),
            FieldSpec(name: "notRequestPrincipals", count: source.notRequestPrincipals.count,
                attribute: .requestPrincipal, negated: true, isNodeEnforced: false,
                values: strings(source.notRequestPrincipals)),
            FieldSpec(name: "namespaces", count: source.namespaces.count, attribute: .sourceNamespace, negated: false,
                isNodeEnforced: true, values: strings(source.namespaces)),
            FieldSpec(name: "notNamespaces", count: source.notNamespaces.count, attribute: .sourceNamespace,
                negated: true, isNodeEnforced: true, values: strings(source.notNamespaces)),
            FieldSpec(name: "serviceAccounts", count: source.serviceAccounts.count, attribute: .sourceServiceAccount,
                negated: false, isNodeEnforced: true, values: accounts(source.serviceAccounts)),
            FieldSpec(name: "notServiceAccounts", count: source.notServiceAccounts.count,
                attribute: .sourceServiceAccount, negated: true, isNodeEnforced: true,
                values: accounts(source.notServiceAccounts)),
            FieldSpec(name: "ipBlocks", count: source.ipBlocks.count, attribute: .sourceIP, negated: false,
                isNodeEnforced: true, values: blocks(source.ipBlocks)),
            FieldSpec(name: "notIpBlocks", count: source.notIpBlocks.count, attribute: .sourceIP, negated: true,
                isNodeEnforced: true, values: blocks(source.notIpBlocks)),
            FieldSpec(name: "remoteIpBlocks", count: source.remoteIpBlocks.count, attribute: .remoteIP,
                negated: false, isNodeEnforced: false, values: blocks(source.remoteIpBlocks)),
            FieldSpec(name: "notRemoteIpBlocks", count: source.notRemoteIpBlocks.count, attribute: .remoteIP,
                negated: true, isNodeEnforced: false, values: blocks(source.notRemoteIpBlocks)),
            FieldSpec(name: "trustDomains", count: source.trustDomains.count, attribute: .sourceTrustDomain,
                negated: false, isNodeEnforced: false, values: strings(source.trustDomains)),
            FieldSpec(name: "notTrustDomains", count: source.notTrustDomains.count, attribute: .sourceTrustDomain,
                negated: true, isNodeEnforced: false, values: strings(source.notTrustDomains)),
        ]
        return group("from[\(index)]", prefix: "from[\(index)].source.", specs: specs, enforcer: enforcer)
    }

    private static func operationGroup(
        _ operation: AuthorizationPolicy.Operation, index: Int, enforcer: Enforcer
    ) -> MatchGroup {
        let strings = { (values: [String]) in { FieldMatch.Values.strings(values.map(StringMatch.init(istio:))) } }
        let hosts = { (values: [String]) in { FieldMatch.Values.caseInsensitiveStrings(values) } }
        let paths = { (values: [String]) in { FieldMatch.Values.paths(values) } }
        let ports = { (values: [UInt16]) in { FieldMatch.Values.ports(values) } }
        let specs = [
            FieldSpec(name: "ports", count: operation.ports.count, attribute: .destinationPort, negated: false,
                isNodeEnforced: true, values: ports(operation.ports)),
            FieldSpec(name: "notPorts", count: operation.notPorts.count, attribute: .destinationPort, negated: true,
                isNodeEnforced: true, values: ports(operation.notPorts)),
            FieldSpec(name: "hosts", count: operation.hosts.count, attribute: .host, negated: false,
                isNodeEnforced: false, values: hosts(operation.hosts)),
            FieldSpec(name: "notHosts", count: operation.notHosts.count, attribute: .host, negated: true,
                isNodeEnforced: false, values: hosts(operation.notHosts)),
            FieldSpec(name: "methods", count: operation.methods.count, attribute: .method, negated: false,
                isNodeEnforced: false, values: strings(operation.methods)),
            FieldSpec(name: "notMethods", count: operation.notMethods.count, attribute: .method, negated: true,
                isNodeEnforced: false, values: strings(operation.notMethods)),
            FieldSpec(name: "paths", count: operation.paths.count, attribute: .path, negated: false,
                isNodeEnforced: false, values: paths(operation.paths)),
            FieldSpec(name: "notPaths", count: operation.notPaths.count, attribute: .path, negated: true,
                isNodeEnforced: false, values: paths(operation.notPaths)),
        ]
        return group("to[\(index)]", prefix: "to[\(index)].operation.", specs: specs, enforcer: enforcer)
    }

    /// The populated fields of an entry; at the node, the ones it cannot enforce are only named.
    private static func group(_ name: String, prefix: String, specs: [FieldSpec], enforcer: Enforcer) -> MatchGroup {
        var fields: [FieldMatch] = []
        var waypointOnly: [String] = []
        for spec in specs where spec.count > 0 {
            if enforcer == .node && !spec.isNodeEnforced {
                waypointOnly.append(spec.name)
            } else {
                fields.append(
                    FieldMatch(
                        attribute: spec.attribute, negated: spec.negated, values: spec.values(),
                        field: prefix + spec.name))
            }
        }
        return MatchGroup(name: name, fields: fields, waypointOnly: waypointOnly)
    }

    // MARK: - Conditions

    /// A `when` condition. A key that does not parse (only possible for policies built in code) has no
    /// fields, so it matches nothing; at the node, so does any key ztunnel does not enforce.
    private static func conditionGroup(
        _ condition: AuthorizationPolicy.Condition, index: Int, enforcer: Enforcer, policyNamespace: String
    ) -> MatchGroup {
        let name = "when[\(index)]"
        guard let attribute = try? ConditionAttribute(key: condition.key) else {
            return MatchGroup(name: name, fields: [], waypointOnly: enforcer == .node ? [condition.key] : [])
        }
        if enforcer == .node && !attribute.isNodeEnforced {
            return MatchGroup(name: name, fields: [], waypointOnly: [condition.key])
        }
        var fields: [FieldMatch] = []
        for (negated, values) in [(false, condition.values), (true, condition.notValues)] where !values.isEmpty {
            let (fieldAttribute, compiled) = conditionValues(
                attribute, key: condition.key, values: values, policyNamespace: policyNamespace)
            fields.append(
                FieldMatch(
                    attribute: fieldAttribute, negated: negated, values: compiled,
                    field: name + (negated ? ".notValues" : ".values")))
        }
        return MatchGroup(name: name, fields: fields, waypointOnly: [])
    }

    /// The field attribute a `when` key reads and its values. IP and port values that do not parse make the
    /// whole list unreadable (it then matches nothing).
    private static func conditionValues(
        _ attribute: ConditionAttribute, key: String, values: [String], policyNamespace: String
    ) -> (FieldMatch.Attribute, FieldMatch.Values) {
        let strings = FieldMatch.Values.strings(values.map(StringMatch.init(istio:)))
        switch attribute {
        case .sourceIP, .remoteIP, .destinationIP:
            let blocks = values.compactMap { IPPrefix(parsing: $0) }
            let field: FieldMatch.Attribute =
                switch attribute {
                case .sourceIP: .sourceIP
                case .remoteIP: .remoteIP
                default: .destinationIP
                }
            return (field, blocks.count == values.count ? .blocks(blocks) : .unreadable(values))
        case .destinationPort:
            let ports = values.compactMap { $0.allSatisfy { $0.isASCII && $0.isNumber } ? UInt16($0) : nil }
            return (.destinationPort, ports.count == values.count ? .ports(ports) : .unreadable(values))
        case .sourceNamespace:
            return (.sourceNamespace, strings)
        case .sourcePrincipal:
            return (.sourcePrincipal, strings)
        case .sourceServiceAccount:
            let accounts = values.map { serviceAccount($0, policyNamespace: policyNamespace) }
            return (.sourceServiceAccount, .serviceAccounts(accounts))
        case .sourceTrustDomain:
            return (.sourceTrustDomain, strings)
        case .requestHeader(let header):
            return (.header(RequestFacts.asciiLowercased(header)), strings)
        case .requestInlineHeader(let header):
            return (.inlineHeader(RequestFacts.asciiLowercased(header)), strings)
        case .requestAuthPrincipal, .requestAuthAudiences, .requestAuthPresenter, .requestAuthClaim:
            return (.requestAuth(key), strings)
        case .connectionSNI, .experimental:
            return (.unavailable(key), strings)
        }
    }

    /// `ns/sa`, or a bare `sa` in the policy's namespace (istiod's `stringToServiceAccountMatch`).
    static func serviceAccount(_ text: String, policyNamespace: String) -> FieldMatch.ServiceAccountName {
        if let slash = text.firstIndex(of: "/") {
            return .init(namespace: String(text[..<slash]), name: String(text[text.index(after: slash)...]))
        }
        return .init(namespace: policyNamespace, name: text)
    }
}
