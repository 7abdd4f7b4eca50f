// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// DestinationRule `loadBalancer` (`LoadBalancerSettings`): a simple policy or consistent hashing.
public struct LoadBalancerSettings: Hashable, Sendable {
    /// `simple`.
    public enum Simple: String, CaseIterable, Hashable, Sendable {
        case unspecified = "UNSPECIFIED"
        /// Deprecated; use ``leastRequest``.
        case leastConn = "LEAST_CONN"
        case random = "RANDOM"
        /// Forward to the original destination address, no balancing.
        case passthrough = "PASSTHROUGH"
        case roundRobin = "ROUND_ROBIN"
        case leastRequest = "LEAST_REQUEST"
    }

    /// `consistentHash`: soft affinity from a hash key.
    public struct ConsistentHash: Hashable, Sendable {
        /// The hash key (oneof).
        public enum Key: Hashable, Sendable {
            /// `httpHeaderName`.
            case httpHeaderName(String)
            /// `httpCookie {name, path, ttl}`: with a TTL a cookie is generated when absent; TTL 0 gives a
            /// session cookie.
            case httpCookie(name: String, path: String?, ttl: Duration?)
            /// `useSourceIp: true`.
            case useSourceIp
            /// `httpQueryParameterName`.
            case httpQueryParameterName(String)
        }

        /// The hash algorithm (oneof).
        public enum Algorithm: Hashable, Sendable {
            /// `ringHash {minimumRingSize}`, default 1024.
            case ringHash(minimumRingSize: Int)
            /// `maglev {tableSize}`, a prime, default 65537.
            case maglev(tableSize: Int)
        }

        /// The key.
        public var key: Key
        /// The algorithm; `nil` for the default.
        public var algorithm: Algorithm?

        /// Creates consistent hashing settings.
        public init(key: Key, algorithm: Algorithm? = nil) {
            self.key = key
            self.algorithm = algorithm
        }
    }

    /// `simple`.
    public var simple: Simple?
    /// `consistentHash`.
    public var consistentHash: ConsistentHash?

    /// Creates load balancer settings.
    public init(simple: Simple? = nil, consistentHash: ConsistentHash? = nil) {
        self.simple = simple
        self.consistentHash = consistentHash
    }
}
