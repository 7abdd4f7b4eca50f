// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftPolicy

extension AuthorizationPolicyTranslator {
    /// Warns about everything the node does differently from the policy as written: AUDIT and CUSTOM
    /// policies are ignored, and each field only a waypoint can enforce changes the rule that holds it
    /// (see ``NodeEnforcement``). Each warning points at the field.
    static func warnNodeBehaviour(
        _ policy: AuthorizationPolicy, spec: YAMLField, lines: [String: Int], reader: ObjectReader
    ) {
        let actionField = spec.child("action") ?? spec
        switch policy.action {
        case .audit:
            reader.warning(
                "AUDIT policies only log and are ignored at the node, as ztunnel ignores them", at: actionField)
            return
        case .custom:
            let provider = policy.provider.map { " (provider \($0))" } ?? ""
            reader.warning(
                "CUSTOM\(provider) runs only at a waypoint; the node ignores this policy, as ztunnel does",
                at: actionField)
            return
        case .allow, .deny:
            break
        }
        guard !policy.isWaypointBound else { return }
        let projections = policy.nodeProjection
        for projection in projections {
            let rule = projection.ruleIndex
            for field in projection.waypointOnlyFields {
                let path = "spec.rules[\(rule)].\(field.path)"
                let subject = isWhen(field) ? "key \(field.field)" : field.field
                let consequence: String
                switch projection.enforcement {
                case .dropped, .enforced:
                    consequence = "at the node ALLOW rule \(rule) is dropped (it matches nothing)"
                case .l4PartOnly where field.entryKeepsNodeFields:
                    consequence = "at the node only the L4 part of DENY rule \(rule) is enforced, which denies more "
                        + "than written"
                case .l4PartOnly:
                    consequence = "at the node this entry keeps no L4 field and matches nothing; DENY rule \(rule) "
                        + "is enforced only through its other entries"
                case .noEffect:
                    let sections = projection.emptySections.joined(separator: ", ")
                    consequence = "at the node DENY rule \(rule) has no effect: \(sections) keeps no L4 field and "
                        + "matches nothing"
                }
                reader.log.warning(
                    file: reader.file, line: lines[path] ?? actionField.keyLine, object: reader.object, field: path,
                    "\(subject) applies only at a waypoint; \(consequence)")
            }
        }
        let enforceable = projections.contains { $0.enforcement == .enforced || $0.enforcement == .l4PartOnly }
        guard !projections.isEmpty, !enforceable else { return }
        let at = spec.child("rules") ?? spec
        if policy.action == .allow {
            reader.warning(
                "every rule of this ALLOW policy is dropped at the node, so it allows nothing there: the workloads "
                    + "it applies to are denied all traffic (fail closed); enforce it at a waypoint with targetRefs",
                at: at)
        } else {
            reader.warning(
                "after removing waypoint-only fields this DENY policy has no enforceable rule at the node and no "
                    + "effect there; enforce it at a waypoint with targetRefs", at: at)
        }
    }

    private static func isWhen(_ field: WaypointOnlyField) -> Bool {
        if case .when = field.entry { return true }
        return false
    }
}
