// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Compiles model rules into the node's match structure: a rule is an AND of clauses (`from`, `to`, each
/// `when`), a clause an OR of match groups (its entries), a group an AND of fields — ztunnel's
/// rules → clauses → matches.
enum NodeCompiler {
    static func compile(
        _ rule: AuthorizationPolicy.Rule, action: AuthorizationPolicy.Action, policyNamespace: String
    ) -> CompiledRule {
        var waypointOnly: [WaypointOnlyField] = []
        var clauses: [Clause] = []

        if !rule.from.isEmpty {
            let groups = rule.from.enumerated().map { index, source in
                let group = sourceGroup(source, index: index, policyNamespace: policyNamespace)
                waypointOnly += group.waypointOnly.map {
                    WaypointOnlyField(entry: .from(index), field: $0, entryKeepsNodeFields: !group.fields.isEmpty)
                }
                return group
            }
            clauses.append(Clause(name: "from", groups: groups))
        }
        if !rule.to.isEmpty {
            let groups = rule.to.enumerated().map { index, operation in
                let group = operationGroup(operation, index: index)
                waypointOnly += group.waypointOnly.map {
                    WaypointOnlyField(entry: .to(index), field: $0, entryKeepsNodeFields: !group.fields.isEmpty)
                }
                return group
            }
            clauses.append(Clause(name: "to", groups: groups))
        }
        for (index, condition) in rule.when.enumerated() {
            let group = conditionGroup(condition, index: index)
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

    private static func sourceGroup(
        _ source: AuthorizationPolicy.Source, index: Int, policyNamespace: String
    ) -> MatchGroup {
        let prefix = "from[\(index)].source."
        var fields: [FieldMatch] = []
        let strings: [(FieldMatch.Attribute, Bool, [String], String)] = [
            (.sourcePrincipal, false, source.principals, "principals"),
            (.sourcePrincipal, true, source.notPrincipals, "notPrincipals"),
            (.sourceNamespace, false, source.namespaces, "namespaces"),
            (.sourceNamespace, true, source.notNamespaces, "notNamespaces"),
        ]
        for (attribute, negated, values, name) in strings where !values.isEmpty {
            let matches = FieldMatch.Values.strings(values.map(StringMatch.init(istio:)))
            fields.append(FieldMatch(attribute: attribute, negated: negated, values: matches, field: prefix + name))
        }
        for (negated, values, name) in [
            (false, source.serviceAccounts, "serviceAccounts"), (true, source.notServiceAccounts, "notServiceAccounts"),
        ] where !values.isEmpty {
            let accounts = values.map { serviceAccount($0, policyNamespace: policyNamespace) }
            fields.append(
                FieldMatch(
                    attribute: .sourceServiceAccount, negated: negated, values: .serviceAccounts(accounts),
                    field: prefix + name))
        }
        for (negated, blocks, name) in [(false, source.ipBlocks, "ipBlocks"), (true, source.notIpBlocks, "notIpBlocks")]
        where !blocks.isEmpty {
            fields.append(
                FieldMatch(attribute: .sourceIP, negated: negated, values: .blocks(blocks), field: prefix + name))
        }

        var waypointOnly: [String] = []
        if !source.requestPrincipals.isEmpty { waypointOnly.append("requestPrincipals") }
        if !source.notRequestPrincipals.isEmpty { waypointOnly.append("notRequestPrincipals") }
        if !source.remoteIpBlocks.isEmpty { waypointOnly.append("remoteIpBlocks") }
        if !source.notRemoteIpBlocks.isEmpty { waypointOnly.append("notRemoteIpBlocks") }
        if !source.trustDomains.isEmpty { waypointOnly.append("trustDomains") }
        if !source.notTrustDomains.isEmpty { waypointOnly.append("notTrustDomains") }
        return MatchGroup(name: "from[\(index)]", fields: fields, waypointOnly: waypointOnly)
    }

    private static func operationGroup(_ operation: AuthorizationPolicy.Operation, index: Int) -> MatchGroup {
        let prefix = "to[\(index)].operation."
        var fields: [FieldMatch] = []
        for (negated, ports, name) in [(false, operation.ports, "ports"), (true, operation.notPorts, "notPorts")]
        where !ports.isEmpty {
            fields.append(
                FieldMatch(attribute: .destinationPort, negated: negated, values: .ports(ports), field: prefix + name))
        }
        var waypointOnly: [String] = []
        let http: [(String, [String])] = [
            ("hosts", operation.hosts), ("notHosts", operation.notHosts), ("methods", operation.methods),
            ("notMethods", operation.notMethods), ("paths", operation.paths), ("notPaths", operation.notPaths),
        ]
        for (name, values) in http where !values.isEmpty { waypointOnly.append(name) }
        return MatchGroup(name: "to[\(index)]", fields: fields, waypointOnly: waypointOnly)
    }

    private static func conditionGroup(_ condition: AuthorizationPolicy.Condition, index: Int) -> MatchGroup {
        let name = "when[\(index)]"
        guard let attribute = try? ConditionAttribute(key: condition.key), attribute.isNodeEnforced else {
            return MatchGroup(name: name, fields: [], waypointOnly: [condition.key])
        }
        var fields: [FieldMatch] = []
        for (negated, values) in [(false, condition.values), (true, condition.notValues)] where !values.isEmpty {
            let field = name + (negated ? ".notValues" : ".values")
            let compiled: (FieldMatch.Attribute, FieldMatch.Values)
            switch attribute {
            case .sourceIP, .destinationIP:
                let blocks = values.compactMap { IPPrefix(parsing: $0) }
                compiled = (
                    attribute == .sourceIP ? .sourceIP : .destinationIP,
                    blocks.count == values.count ? .blocks(blocks) : .unreadable(values)
                )
            case .destinationPort:
                let ports = values.compactMap { $0.allSatisfy { $0.isASCII && $0.isNumber } ? UInt16($0) : nil }
                compiled = (.destinationPort, ports.count == values.count ? .ports(ports) : .unreadable(values))
            case .sourceNamespace:
                compiled = (.sourceNamespace, .strings(values.map(StringMatch.init(istio:))))
            default:
                compiled = (.sourcePrincipal, .strings(values.map(StringMatch.init(istio:))))
            }
            fields.append(FieldMatch(attribute: compiled.0, negated: negated, values: compiled.1, field: field))
        }
        return MatchGroup(name: name, fields: fields, waypointOnly: [])
    }

    /// `ns/sa`, or a bare `sa` in the policy's namespace (istiod's `stringToServiceAccountMatch`).
    static func serviceAccount(_ text: String, policyNamespace: String) -> FieldMatch.ServiceAccountName {
        if let slash = text.firstIndex(of: "/") {
            return .init(namespace: String(text[..<slash]), name: String(text[text.index(after: slash)...]))
        }
        return .init(namespace: policyNamespace, name: text)
    }
}
