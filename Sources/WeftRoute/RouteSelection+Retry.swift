// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension HTTPRouteRule.Retry {
    /// The conditions an HTTPRoute `retry` stanza retries on besides its `codes`: Istio's mapping
    /// (`connect-failure,refused-stream,unavailable,cancelled`) plus `reset`, because Gateway API asks that
    /// connection errors (disconnect, reset, `backendRequest` timeout) be retried too.
    public static let connectionConditions: Set<RetryCondition> = [
        .connectFailure, .refusedStream, .unavailable, .cancelled, .reset,
    ]

    /// This stanza as the waypoint's retry policy; `perTryTimeout` is the rule's `backendRequest`.
    public func policy(perTryTimeout: Duration?) -> RetryPolicy {
        RetryPolicy(
            attempts: effectiveAttempts, perTryTimeout: perTryTimeout,
            conditions: Self.connectionConditions.union(codes.isEmpty ? [] : [.retriableStatusCodes]),
            retriableStatusCodes: Set(codes), backoff: backoff
        )
    }
}

extension RouteSelection {
    /// The retry policy in force, as Istio builds it from an HTTPRoute: the rule's `retry` stanza (with
    /// `backendRequest` as the per-try timeout), or Istio's default policy when the rule has none.
    public var retryPolicy: RetryPolicy {
        guard let retry else { return .istioDefault }
        return retry.policy(perTryTimeout: timeouts?.effectiveBackendRequest)
    }

    /// The whole-request timeout, as Istio builds it: `timeouts.request`; without a `retry` stanza a
    /// `backendRequest` is the route timeout too (the shorter of the two wins).
    public var routeTimeout: Duration? {
        let request = timeouts?.effectiveRequest
        guard retry == nil, let backend = timeouts?.effectiveBackendRequest else { return request }
        return request.map { min($0, backend) } ?? backend
    }
}
