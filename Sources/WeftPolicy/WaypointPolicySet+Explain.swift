// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

extension WaypointPolicySet {
    /// Authorizes one request like ``evaluate(_:)`` and records why: the slow path for `weft explain` and
    /// debug logs. The matching code is the same (and the node's); only the recording differs.
    ///
    /// - Parameter request: The request, with its connection and the Service it is for.
    /// - Returns: The decision, a reason naming the fields that decided, and a trace of every policy bound
    ///   to the waypoint or to the request's Service.
    public func explain(_ request: RequestFacts) -> WaypointExplanation {
        let decision = evaluate(request)
        let candidates = candidateIndexes(request.service).map { compiled[$0] }
        let traces = candidates.map { trace($0, request: request) }
        let reason = Explanation.reason(for: decision, facts: request, candidates: candidates)
        return WaypointExplanation(
            waypoint: waypointKey, request: request, decision: decision, reason: reason, policies: traces)
    }

    private func trace(_ policy: CompiledPolicy, request: RequestFacts) -> PolicyTrace {
        let scope = PolicyTrace.Scope.targetRef(binding(of: policy.policy, for: request.service))
        guard policy.role != .ignored else {
            return PolicyTrace(
                policy: policy.reference, scope: scope, status: .ignored("AUDIT policies never change the decision"),
                matched: false, rules: [])
        }
        let rules = policy.rules.map { $0.trace(request) }
        return PolicyTrace(
            policy: policy.reference, scope: scope, status: policy.isDryRun ? .dryRun : .enforced,
            matched: rules.contains(where: \.matched), rules: rules)
    }

    /// The `targetRefs` entry that makes `policy` apply to a request for `service`: one naming the waypoint
    /// if any, else the one naming the service.
    private func binding(
        of policy: AuthorizationPolicy, for service: RequestFacts.ServiceName?
    ) -> AuthorizationPolicy.TargetReference {
        guard case .targetRefs(let targets) = policy.scope, let first = targets.first else {
            return AuthorizationPolicy.TargetReference(group: "", kind: "", name: "")
        }
        let bindings = targets.map {
            ($0, Self.binding(
                of: $0, policyNamespace: policy.namespace, waypointNamespace: waypointNamespace,
                waypointName: waypointName, rootNamespace: rootNamespace))
        }
        if let waypoint = bindings.first(where: { $0.1 == .waypoint }) { return waypoint.0 }
        if let service, let match = bindings.first(where: { $0.1 == .service(service) }) { return match.0 }
        return first
    }
}
