// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// DestinationRule `connectionPool`: the circuit breaker thresholds. Unset thresholds are Istio's
/// default, ``istioDefaultThreshold`` (2³²−1), not Envoy's own defaults.
public struct ConnectionPoolSettings: Hashable, Sendable {
    /// What Istio sets for every unset threshold: 4294967295.
    public static let istioDefaultThreshold = 4_294_967_295

    /// `tcp.maxConnections` (Envoy `max_connections`).
    public var maxConnections: Int?
    /// `http.http1MaxPendingRequests` (Envoy `max_pending_requests`).
    public var http1MaxPendingRequests: Int?
    /// `http.http2MaxRequests` (Envoy `max_requests`).
    public var http2MaxRequests: Int?
    /// `http.maxRequestsPerConnection`: 1 disables keep-alive, 0 (default) is unlimited.
    public var maxRequestsPerConnection: Int?
    /// `http.maxRetries` (Envoy `max_retries`).
    public var maxRetries: Int?

    /// Creates connection pool settings.
    public init(
        maxConnections: Int? = nil,
        http1MaxPendingRequests: Int? = nil,
        http2MaxRequests: Int? = nil,
        maxRequestsPerConnection: Int? = nil,
        maxRetries: Int? = nil
    ) {
        self.maxConnections = maxConnections
        self.http1MaxPendingRequests = http1MaxPendingRequests
        self.http2MaxRequests = http2MaxRequests
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.maxRetries = maxRetries
    }

    /// The connection threshold in force.
    public var effectiveMaxConnections: Int { maxConnections ?? Self.istioDefaultThreshold }
    /// The pending-request threshold in force.
    public var effectiveMaxPendingRequests: Int { http1MaxPendingRequests ?? Self.istioDefaultThreshold }
    /// The request threshold in force.
    public var effectiveMaxRequests: Int { http2MaxRequests ?? Self.istioDefaultThreshold }
    /// The retry threshold in force.
    public var effectiveMaxRetries: Int { maxRetries ?? Self.istioDefaultThreshold }
}
