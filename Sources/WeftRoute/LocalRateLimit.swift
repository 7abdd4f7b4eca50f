// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// One target of a Weft `LocalRateLimitPolicy` (`weft.dev/v1alpha1`): the token bucket a waypoint keeps
/// for that (policy, target) pair. A policy with three `targetRefs` is three values, three buckets.
///
/// ## Semantics
/// * **Bucket.** It starts full, with ``burst`` tokens. Every ``interval`` (one ``unit``) ``requests``
///   tokens are added, never beyond ``burst``. An admitted request takes one token; a request that finds
///   the bucket empty is refused.
/// * **Local.** Each waypoint instance (each replica) keeps its own buckets, as Envoy's local rate limit
///   filter does: nothing is shared or coordinated, so N replicas admit up to N times the limit. A reload
///   that keeps a limit's ``id`` may keep its bucket.
/// * **What a target covers.** ``Target/waypoint(namespace:name:)``: every request through that waypoint.
///   ``Target/service(namespace:name:port:)``: requests addressed to that Service (to one port when `port`
///   is set). ``Target/httpRoute(namespace:name:rule:)``, ``Target/grpcRoute(namespace:name:rule:)`` and
///   ``Target/virtualService(namespace:name:rule:)``: requests that matched that route (that rule, by
///   `name`, when `rule` is set). Targets are in the policy's namespace.
/// * **Several limits.** A request must pass every limit that applies to it. They are charged in the order
///   ``LocalRateLimitTable/limits(for:)`` gives (most specific first: route rule, route, Service port,
///   Service, waypoint), stopping at the first that refuses: the buckets before it keep the token they
///   took, the ones after it are not charged.
/// * **Refusal.** HTTP 429 with body `local_rate_limited`, Envoy response flag `RL`, and the headers of
///   ``refusalHeaders(resetAfter:)``; the request is not forwarded.
public struct LocalRateLimit: Hashable, Sendable, Identifiable, CustomStringConvertible {
    /// `limit.unit`: the period in which ``LocalRateLimit/requests`` tokens are added.
    public enum Unit: String, Hashable, Sendable, CaseIterable {
        case second = "Second"
        case minute = "Minute"
        case hour = "Hour"

        /// The unit as a duration.
        public var interval: Duration {
            switch self {
            case .second: return .seconds(1)
            case .minute: return .seconds(60)
            case .hour: return .seconds(3600)
            }
        }
    }

    /// What a limit applies to: one `targetRefs` entry, resolved in the policy's namespace.
    public enum Target: Hashable, Sendable, CustomStringConvertible {
        /// An `istio-waypoint` Gateway: every request through that waypoint.
        case waypoint(namespace: String, name: String)
        /// A Service: requests addressed to it, or only to `port` (the port `sectionName` names).
        case service(namespace: String, name: String, port: UInt16?)
        /// An HTTPRoute: requests it matched, or only those of the rule named `rule`.
        case httpRoute(namespace: String, name: String, rule: String?)
        /// A GRPCRoute: requests it matched, or only those of the rule named `rule`.
        case grpcRoute(namespace: String, name: String, rule: String?)
        /// A VirtualService: requests it matched, or only those of the `http` rule named `rule`.
        case virtualService(namespace: String, name: String, rule: String?)

        /// `Gateway shop/waypoint`, `Service shop/reviews:9080`, `HTTPRoute shop/reviews rule canary`.
        public var description: String {
            switch self {
            case .waypoint(let namespace, let name):
                return "Gateway \(namespace)/\(name)"
            case .service(let namespace, let name, let port):
                return "Service \(namespace)/\(name)" + (port.map { ":\($0)" } ?? "")
            case .httpRoute(let namespace, let name, let rule):
                return "HTTPRoute \(namespace)/\(name)" + (rule.map { " rule \($0)" } ?? "")
            case .grpcRoute(let namespace, let name, let rule):
                return "GRPCRoute \(namespace)/\(name)" + (rule.map { " rule \($0)" } ?? "")
            case .virtualService(let namespace, let name, let rule):
                return "VirtualService \(namespace)/\(name)" + (rule.map { " rule \($0)" } ?? "")
            }
        }
    }

    /// What identifies a bucket: the policy and the target.
    public struct ID: Hashable, Sendable {
        /// The policy, `namespace/name`.
        public var policy: String
        /// The target.
        public var target: Target

        /// Creates an identifier.
        public init(policy: String, target: Target) {
            self.policy = policy
            self.target = target
        }
    }

    /// The policy's namespace, where its targets are.
    public var namespace: String
    /// The policy's name.
    public var name: String
    /// What the limit applies to.
    public var target: Target
    /// `limit.requests`: tokens added every ``interval``, at least 1.
    public var requests: Int
    /// `limit.unit`.
    public var unit: Unit
    /// `burst`: the most tokens the bucket holds, at least ``requests``.
    public var burst: Int
    /// Where the policy was declared (its `metadata.name`), for logs and `config_dump`.
    public var location: ManifestLocation?

    /// Creates a limit.
    ///
    /// - Parameters:
    ///   - namespace: The policy's namespace.
    ///   - name: The policy's name.
    ///   - target: What the limit applies to.
    ///   - requests: Tokens added every `unit`.
    ///   - unit: The refill period.
    ///   - burst: The bucket size; `nil` means `requests`.
    ///   - location: Where the policy was declared.
    public init(
        namespace: String, name: String, target: Target, requests: Int, unit: Unit, burst: Int? = nil,
        location: ManifestLocation? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.target = target
        self.requests = requests
        self.unit = unit
        self.burst = burst ?? requests
        self.location = location
    }

    /// The policy, `namespace/name`.
    public var key: String { "\(namespace)/\(name)" }

    /// The refill period, ``unit`` as a duration.
    public var interval: Duration { unit.interval }

    /// The bucket's identity: ``key`` and ``target``.
    public var id: ID { ID(policy: key, target: target) }

    /// `shop/reviews-100rps on Service shop/reviews: 100/Second, burst 100`.
    public var description: String { "\(key) on \(target): \(requests)/\(unit.rawValue), burst \(burst)" }
}
