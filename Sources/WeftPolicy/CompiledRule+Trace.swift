// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// The explanation side of the compiled structure, shared by the node's and the waypoint's `explain`: the
/// same matching as evaluation, recording which entry matched and which field failed.
extension CompiledRule {
    /// The fields that made this (matching) rule match, joined with `; `, for a decision's reason.
    func matchDetail<Facts: PolicyFacts>(_ facts: Facts) -> String {
        if clauses.isEmpty { return "rule \(index) has no conditions and matches every \(Facts.subject)" }
        var parts: [String] = []
        for clause in clauses {
            guard let group = clause.groups.first(where: { $0.matches(facts) }) else { continue }
            parts += group.fields.map { $0.explain(facts).text }
        }
        return parts.joined(separator: "; ")
    }

    /// Whether the rule matched and why: one line per clause (the entry that matched and its fields, or
    /// every entry's failing fields), preceded by notes on fields the node cannot enforce.
    func trace<Facts: PolicyFacts>(_ facts: Facts) -> RuleTrace {
        var details: [String] = []
        let fields = waypointOnly.map(\.description).joined(separator: ", ")
        switch enforcement {
        case .dropped:
            details.append("waypoint-only: \(fields); an ALLOW rule using them is omitted at the node")
            return RuleTrace(index: index, enforcement: enforcement, matched: false, details: details)
        case .l4PartOnly, .noEffect:
            details.append("waypoint-only, removed at the node: \(fields)")
        case .enforced:
            break
        }
        if clauses.isEmpty { details.append("no conditions: matches every \(Facts.subject)") }
        var matched = true
        for clause in clauses {
            if let group = clause.groups.first(where: { $0.matches(facts) }) {
                let texts = group.fields.map { $0.explain(facts).text }
                details.append("\(clause.name): \(group.name) matched — " + texts.joined(separator: "; "))
                continue
            }
            matched = false
            let texts = clause.groups.map { group -> String in
                if group.fields.isEmpty {
                    guard !group.waypointOnly.isEmpty else {
                        return "\(group.name) has no field that can be tested (empty, or an unknown when key) "
                            + "and matches nothing"
                    }
                    let removed = group.waypointOnly.joined(separator: ", ")
                    return "\(group.name) keeps no L4 field (\(removed) only at a waypoint) and matches nothing"
                }
                let failing = group.fields.map { $0.explain(facts) }.filter { !$0.matched }.map(\.text)
                return failing.joined(separator: "; ")
            }
            details.append("\(clause.name): no match — " + texts.joined(separator: " | "))
        }
        return RuleTrace(index: index, enforcement: enforcement, matched: matched, details: details)
    }
}
