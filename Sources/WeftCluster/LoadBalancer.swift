// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Chooses the endpoint of a cluster each request goes to, as a DestinationRule `loadBalancer` says.
///
/// ## Overview
/// One value per cluster (service, subset and port), owned by whoever serialises requests to that
/// cluster. Endpoints are stable identity strings (`10.0.0.1:8080`) kept in the order given; choices are
/// indices into ``endpoints``. The caller says which endpoints may take a request through
/// `isAvailable` — outlier ejection, circuit breakers, draining — so the balancer keeps no health state.
///
/// ## Policies
/// - `ROUND_ROBIN`, and Weft's default when `loadBalancer` is unset or `UNSPECIFIED`: the next available
///   endpoint in rotation. The rotation starts at a random endpoint (as Envoy seeds it), so replicas do
///   not all send their first request to the same endpoint. (Recent Istio releases default to
///   `LEAST_REQUEST`; Weft keeps round robin as its documented default.)
/// - `RANDOM`: uniform among the available endpoints.
/// - `LEAST_REQUEST` (and the deprecated `LEAST_CONN`): Envoy's power of two choices for equal weights —
///   two distinct available endpoints drawn at random, the one with fewer active requests wins, the
///   first drawn on a tie. Needs ``requestStarted(_:)`` / ``requestFinished(_:)``.
/// - `PASSTHROUGH`: no balancing; ``choose(hash:isAvailable:using:)`` returns `nil` and
///   ``isPassthrough`` tells the caller to forward to the original destination address.
/// - `consistentHash`: see `LoadBalancer+ConsistentHash.swift`. The algorithm defaults to a ring hash
///   of 1024 points, as Istio configures it. When `consistentHash` is set, `simple` is ignored.
public struct LoadBalancer: Sendable {
    /// The resolved policy.
    public enum Policy: Hashable, Sendable {
        case roundRobin
        case random
        case leastRequest
        case passthrough
        /// Ring hash with the resolved minimum ring size.
        case ringHash(minimumRingSize: Int)
        /// Maglev with the resolved (prime) table size.
        case maglev(tableSize: Int)

        /// Whether requests are placed by a hash key.
        public var isConsistentHash: Bool {
            switch self {
            case .ringHash, .maglev: true
            default: false
            }
        }
    }

    /// The endpoint identities, in the order given; choices index into it.
    public private(set) var endpoints: [String]
    /// The settings in force.
    public private(set) var settings: LoadBalancerSettings?
    /// The policy the settings resolve to.
    public private(set) var policy: Policy
    /// Active requests per endpoint (parallel to ``endpoints``), for `LEAST_REQUEST` and metrics.
    public private(set) var activeRequests: [Int]

    /// The next round-robin position; `nil` until the first choice picks a random start.
    var rotation: Int?
    /// The table over every endpoint, for consistent hashing.
    var table: ConsistentHashTable?
    /// The table over the available endpoints when some are not available, cached per availability set.
    var fallback: FallbackTable?

    /// Creates a balancer.
    ///
    /// - Parameters:
    ///   - settings: The DestinationRule `loadBalancer`; `nil` means round robin.
    ///   - endpoints: Endpoint identities such as `10.0.0.1:8080`.
    public init(settings: LoadBalancerSettings?, endpoints: [String]) {
        self.endpoints = endpoints
        self.settings = settings
        self.policy = Self.policy(for: settings)
        self.activeRequests = Array(repeating: 0, count: endpoints.count)
        self.table = ConsistentHashTable(policy: policy, endpoints: endpoints)
    }

    /// The policy `settings` resolve to: `consistentHash` first (ring hash of 1024 by default), then
    /// `simple`, with `nil` and `UNSPECIFIED` meaning round robin and `LEAST_CONN` meaning
    /// `LEAST_REQUEST`.
    public static func policy(for settings: LoadBalancerSettings?) -> Policy {
        if let consistentHash = settings?.consistentHash {
            switch consistentHash.algorithm {
            case .maglev(let tableSize):
                return .maglev(tableSize: MaglevTable.resolvedTableSize(tableSize))
            case .ringHash(let minimumRingSize):
                return .ringHash(minimumRingSize: RingHashTable.resolvedRingSize(minimumRingSize))
            case nil:
                return .ringHash(minimumRingSize: RingHashTable.defaultMinimumRingSize)
            }
        }
        switch settings?.simple {
        case nil, .unspecified, .roundRobin: return .roundRobin
        case .random: return .random
        case .leastConn, .leastRequest: return .leastRequest
        case .passthrough: return .passthrough
        }
    }

    /// Whether the policy is `PASSTHROUGH`: the caller forwards to the original destination and
    /// ``choose(hash:isAvailable:using:)`` always returns `nil`.
    public var isPassthrough: Bool { policy == .passthrough }

    /// The stable 64-bit hash (xxHash64, seed 0) of a request key — a header, cookie or query value, or
    /// the source IP as text — as Envoy computes it.
    public static func hash(_ key: String) -> UInt64 { XXHash64.hash(key) }

    /// The index of `endpoint` in ``endpoints``, if present.
    public func index(of endpoint: String) -> Int? { endpoints.firstIndex(of: endpoint) }

    /// Chooses the endpoint for one request.
    ///
    /// - Parameters:
    ///   - hash: The request's hash key (``hash(_:)`` or ``ConsistentHashKey``); used only by consistent
    ///     hashing, where `nil` (the key is absent from the request) falls back to a random choice.
    ///   - isAvailable: Whether the endpoint at an index may take the request. Must not change during
    ///     the call.
    /// - Returns: An index whose `isAvailable` is `true`, or `nil` when none is (or for passthrough).
    /// Randomness (random, least-request and round-robin-start draws) comes from the kernel, buffered (`BufferedRandom`).
    public mutating func choose(hash: UInt64?, isAvailable: (Int) -> Bool) -> Int? {
        // Not generic: callers in other modules get the draw specialised for `BufferedRandom` (through the
        // generic entry point, least request's two draws ran unspecialised, ~20× slower).
        var generator = BufferedRandom()
        return choose(hash: hash, isAvailable: isAvailable, using: &generator)
    }

    /// Chooses the endpoint for one request, drawing from `generator` (see ``choose(hash:isAvailable:)``).
    public mutating func choose(
        hash: UInt64?,
        isAvailable: (Int) -> Bool,
        using generator: inout some RandomNumberGenerator
    ) -> Int? {
        guard !endpoints.isEmpty else { return nil }
        switch policy {
        case .passthrough:
            return nil
        case .roundRobin:
            return nextInRotation(isAvailable: isAvailable, using: &generator)
        case .random:
            return randomAvailable(excluding: nil, isAvailable: isAvailable, using: &generator)
        case .leastRequest:
            return leastRequested(isAvailable: isAvailable, using: &generator)
        case .ringHash, .maglev:
            guard let hash else {
                return randomAvailable(excluding: nil, isAvailable: isAvailable, using: &generator)
            }
            return consistentChoice(hash: hash, isAvailable: isAvailable)
        }
    }

    /// Counts a request sent to the endpoint at `index` as active. Out-of-range indices are ignored.
    public mutating func requestStarted(_ index: Int) {
        guard activeRequests.indices.contains(index) else { return }
        activeRequests[index] += 1
    }

    /// Counts a request to the endpoint at `index` as finished. Never goes below zero; out-of-range
    /// indices are ignored. Indices refer to the current ``endpoints``: after ``update(endpoints:settings:)``
    /// look the endpoint up again with ``index(of:)``.
    public mutating func requestFinished(_ index: Int) {
        guard activeRequests.indices.contains(index) else { return }
        activeRequests[index] = max(0, activeRequests[index] - 1)
    }

    /// Applies a configuration reload: the active counts of endpoints that remain (by identity) are
    /// kept, new endpoints start at zero, the hash tables are rebuilt and the round-robin position is
    /// kept (modulo the new count).
    public mutating func update(endpoints newEndpoints: [String], settings newSettings: LoadBalancerSettings?) {
        var carried: [String: Int] = [:]
        for (index, endpoint) in endpoints.enumerated() {
            carried[endpoint, default: 0] += activeRequests[index]
        }
        // A repeated identity takes the carried count once, at its first position.
        activeRequests = newEndpoints.map { carried.removeValue(forKey: $0) ?? 0 }
        let newPolicy = Self.policy(for: newSettings)
        if newPolicy != policy || newEndpoints != endpoints {
            table = ConsistentHashTable(policy: newPolicy, endpoints: newEndpoints)
        }
        fallback = nil
        endpoints = newEndpoints
        settings = newSettings
        policy = newPolicy
        if let position = rotation {
            rotation = newEndpoints.isEmpty ? nil : position % newEndpoints.count
        }
    }
}
