// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// The AuthorizationPolicies one waypoint enforces, compiled and indexed, and the evaluation of an HTTP
/// request against them with Istio's semantics.
///
/// ## Overview
/// Build one per configuration and waypoint (``init(snapshot:waypoint:)``) and share it; it is immutable
/// and `Sendable`. ``evaluate(_:)`` is the hot path: it returns a ``Decision`` without building strings.
/// ``explain(_:)`` runs the same matching and records why, for `weft explain` and debug logs. A denied
/// request is answered ``Decision/deniedHTTPStatus`` (403) with body ``Decision/deniedHTTPBody``
/// (`RBAC: access denied`).
///
/// ## Which policies apply (Istio's waypoint binding)
/// Only `targetRefs` policies; `selector` and namespace-wide policies are ztunnel's and never apply here.
/// A policy applies to a request when one of its `targetRefs`, which always name an object in the policy's
/// own namespace, is:
/// - the waypoint's `Gateway` (group `gateway.networking.k8s.io`): every request through the waypoint;
/// - the `istio-waypoint` `GatewayClass` (same group), from a policy in the root namespace: every request
///   through every waypoint;
/// - the `Service` (group `""`, or its alias `core`) or `ServiceEntry` (group `networking.istio.io`) the
///   request is for (``RequestFacts/service``).
/// Other targets (another waypoint's Gateway, other kinds or groups) do not bind here.
///
/// ## Semantics (Istio, as Envoy enforces it at a waypoint)
/// 1. A matching `CUSTOM` policy denies: Weft has no external authorizer (ext-authz), so it fails closed
///    rather than ignore a policy meant to restrict.
/// 2. Any matching DENY policy → deny.
/// 3. No ALLOW policy applies → allow.
/// 4. Any matching ALLOW policy → allow; otherwise deny.
/// `AUDIT` policies never change the decision. Dry-run policies (`istio.io/dry-run: "true"`) are evaluated
/// and reported in ``Decision/dryRun`` (what the decision would be with them enforced), never enforced.
/// Every field is enforced as written, HTTP ones included; see ``RequestFacts`` for what a request without
/// JWT matches, and ``PathNormalizer`` for the path the caller must pass.
///
/// `hosts` values are Istio's forms compared ASCII case-insensitively: exact, `*.example.com` (a suffix, so
/// it also matches `badexample.com` when written `*example.com`), `prefix*` and `*` (any authority). Istio
/// compares them with the raw `:authority`, where `example.com` misses `example.com:8080`
/// (istio/istio#44080); Weft compares each value with the authority and with the authority without its
/// port, so a port in the Host header can neither dodge a DENY nor fail an ALLOW written for the bare name,
/// while values written with a port (`example.com:8080`, `example.com:*`) match as in Istio.
///
/// ## Implementation
/// The compiled match structure, the field matchers and the evaluation order are the node's
/// (``PolicySet``); only the index differs: the policies bound to the waypoint itself are one list, the
/// others are bucketed by the Service they name, so a request visits only the policies that apply to it.
/// When several policies match, the one reported is the first in `namespace/name` order.
public struct WaypointPolicySet: Sendable {
    /// The group of `Gateway` and `GatewayClass` targets.
    public static let gatewayGroup = "gateway.networking.k8s.io"
    /// The group of `ServiceEntry` targets.
    public static let serviceEntryGroup = "networking.istio.io"

    /// The waypoint's (Gateway's) namespace.
    public let waypointNamespace: String
    /// The waypoint's (Gateway's) name.
    public let waypointName: String
    /// Istio's root namespace, where a `GatewayClass`-bound policy must live.
    public let rootNamespace: String
    /// The policies bound to this waypoint or to a service, sorted by `namespace/name`; indexes point here.
    let compiled: [CompiledPolicy]
    /// Policies bound to the waypoint itself (its Gateway, or the waypoint GatewayClass).
    let waypointWide: [Int]
    /// Policies bound to a Service or ServiceEntry and not to the waypoint itself, by that service.
    let byService: [RequestFacts.ServiceName: [Int]]

    /// Compiles and indexes the policies that bind to one waypoint.
    ///
    /// - Parameters:
    ///   - policies: Every AuthorizationPolicy of the snapshot, in any order; those without `targetRefs`
    ///     are ignored.
    ///   - waypointNamespace: The waypoint Gateway's namespace.
    ///   - waypointName: The waypoint Gateway's name.
    ///   - rootNamespace: Istio's root namespace (`istio-system` unless the mesh config says otherwise).
    public init(
        _ policies: [AuthorizationPolicy], waypointNamespace: String, waypointName: String,
        rootNamespace: String = "istio-system"
    ) {
        self.waypointNamespace = waypointNamespace
        self.waypointName = waypointName
        self.rootNamespace = rootNamespace
        var bound: [(policy: AuthorizationPolicy, waypointWide: Bool, services: [RequestFacts.ServiceName])] = []
        for policy in policies {
            guard case .targetRefs(let targets) = policy.scope else { continue }
            var waypointWide = false
            var services: [RequestFacts.ServiceName] = []
            for target in targets {
                switch Self.binding(of: target, policyNamespace: policy.namespace, waypointNamespace: waypointNamespace,
                    waypointName: waypointName, rootNamespace: rootNamespace)
                {
                case .waypoint: waypointWide = true
                case .service(let service): if !services.contains(service) { services.append(service) }
                case nil: break
                }
            }
            if waypointWide || !services.isEmpty { bound.append((policy, waypointWide, services)) }
        }
        bound.sort { ($0.policy.namespace, $0.policy.name) < ($1.policy.namespace, $1.policy.name) }
        self.compiled = bound.map { CompiledPolicy($0.policy, for: .waypoint) }
        var waypointWide: [Int] = []
        var byService: [RequestFacts.ServiceName: [Int]] = [:]
        for (index, entry) in bound.enumerated() {
            if entry.waypointWide {
                waypointWide.append(index)
            } else {
                for service in entry.services { byService[service, default: []].append(index) }
            }
        }
        self.waypointWide = waypointWide
        self.byService = byService
    }

    /// The policy set of `waypoint` in a snapshot, with the snapshot's root namespace.
    public init(snapshot: MeshSnapshot, waypoint: Waypoint) {
        self.init(
            snapshot.authorizationPolicies, waypointNamespace: waypoint.namespace, waypointName: waypoint.name,
            rootNamespace: snapshot.rootNamespace)
    }

    /// How many policies bind to the waypoint or to some service.
    public var count: Int { compiled.count }

    /// `namespace/name` of the waypoint.
    public var waypointKey: String { "\(waypointNamespace)/\(waypointName)" }

    /// Authorizes one request.
    ///
    /// - Parameter request: The request, with its connection and the Service it is for.
    /// - Returns: The decision and what caused it, with what dry-run policies would have decided.
    public func evaluate(_ request: RequestFacts) -> Decision {
        var verdict = VerdictAccumulator()
        var hasDryRun = false
        forEachCandidate(request.service) { index in
            let policy = compiled[index]
            if policy.isEnforced {
                verdict.consider(index, policy, request)
            } else if policy.isDryRun {
                hasDryRun = true
            }
        }
        let outcome = verdict.outcome(compiled)
        guard hasDryRun else { return Decision(verdict: outcome.verdict, cause: outcome.cause) }
        var shadow = VerdictAccumulator()
        forEachCandidate(request.service) { index in
            let policy = compiled[index]
            if policy.isEnforced || policy.isDryRun { shadow.consider(index, policy, request) }
        }
        let dryRun = shadow.outcome(compiled)
        return Decision(
            verdict: outcome.verdict, cause: outcome.cause,
            dryRun: Decision.DryRun(verdict: dryRun.verdict, cause: dryRun.cause))
    }

    /// The policies that apply to requests for `service` (or, with `nil`, to requests addressed to a
    /// workload), enforced or not (AUDIT, dry-run), sorted by `namespace/name`.
    public func policies(applyingTo service: RequestFacts.ServiceName?) -> [AuthorizationPolicy] {
        candidateIndexes(service).map { compiled[$0].policy }
    }

    // MARK: - Candidates

    /// Calls `body` with the index of every policy that applies to a request for `service`: the
    /// waypoint-wide ones, then the service's. Order is not sorted; no index is visited twice.
    @inline(__always)
    func forEachCandidate(_ service: RequestFacts.ServiceName?, _ body: (Int) -> Void) {
        for index in waypointWide { body(index) }
        guard let service, !byService.isEmpty, let bound = byService[service] else { return }
        for index in bound { body(index) }
    }

    /// The candidates' indexes, sorted (so in `namespace/name` order).
    func candidateIndexes(_ service: RequestFacts.ServiceName?) -> [Int] {
        var result: [Int] = []
        forEachCandidate(service) { result.append($0) }
        return result.sorted()
    }

    // MARK: - Binding

    /// What a `targetRefs` entry binds a policy to, as seen from this waypoint.
    enum Binding: Equatable {
        /// The waypoint itself: every request.
        case waypoint
        /// Requests for one service.
        case service(RequestFacts.ServiceName)
    }

    /// The binding of `target` in a policy of `policyNamespace`, or `nil` when it names nothing this
    /// waypoint serves.
    static func binding(
        of target: AuthorizationPolicy.TargetReference, policyNamespace: String, waypointNamespace: String,
        waypointName: String, rootNamespace: String
    ) -> Binding? {
        switch (target.group, target.kind) {
        case (gatewayGroup, "Gateway"):
            return policyNamespace == waypointNamespace && target.name == waypointName ? .waypoint : nil
        case (gatewayGroup, "GatewayClass"):
            let isWaypointClass = target.name == Waypoint.Labels.gatewayClassName
            return policyNamespace == rootNamespace && isWaypointClass ? .waypoint : nil
        case ("", "Service"), ("core", "Service"):
            return .service(RequestFacts.ServiceName(kind: .service, namespace: policyNamespace, name: target.name))
        case (serviceEntryGroup, "ServiceEntry"):
            return .service(
                RequestFacts.ServiceName(kind: .serviceEntry, namespace: policyNamespace, name: target.name))
        default:
            return nil
        }
    }
}
