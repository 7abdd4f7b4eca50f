// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// Envoy's cluster circuit breakers, from a DestinationRule `connectionPool`: admission counters for
/// requests, connections, pending requests and retries.
///
/// ## Counters
/// - ``activeRequests``: requests dispatched to an endpoint (on a connection or an HTTP/2 stream) and
///   not finished — Envoy's `rq_active`, limited by `http2MaxRequests` (`max_requests`). Call
///   ``startRequest()`` when a request is about to be sent, once it has a connection, and
///   ``finishRequest()`` when its response is complete or it fails.
/// - ``activeConnections``: upstream connections open or being opened — `cx_active`, limited by
///   `tcp.maxConnections`. Counted by ``needConnection(idleAvailable:)`` returning ``ConnectionDecision/open``;
///   released by ``connectionClosed()`` (including a connect that failed).
/// - ``pendingRequests``: requests queued for a busy pool, waiting for a connection to free up —
///   `rq_pending_active`, limited by `http1MaxPendingRequests`. Counted by ``ConnectionDecision/queue``;
///   released by ``pendingResolved()`` when the request gets a connection or gives up (timeout, client
///   gone).
/// - ``activeRetries``: retries in progress — `rq_retry_active`, limited by `maxRetries`.
///
/// Unset thresholds are Istio's 2³²−1, so in practice unlimited. A refused admission answers the
/// client `503` with response flag `UO` and `x-envoy-overloaded: true`. Finishing more than was
/// started leaves a counter at zero rather than trapping. The overflow totals feed
/// `upstream_cx_overflow`, `upstream_rq_pending_overflow` and `upstream_rq_retry_overflow`.
///
/// Unlike Envoy, a request waiting for a connection that ``ConnectionDecision/open`` started is not
/// counted as pending: the pending limit covers only requests queued behind a full pool.
public struct CircuitBreaker: Hashable, Sendable {
    /// How an HTTP/1.1 request (one request per connection at a time) gets a connection.
    public enum ConnectionDecision: Hashable, Sendable {
        /// Use the idle connection the caller has; no counter changes.
        case reuseIdle
        /// Open a new connection; ``activeConnections`` has been incremented.
        case open
        /// Wait for a connection to become idle; ``pendingRequests`` has been incremented.
        case queue
        /// Refuse: the connection limit and the pending queue are both full. Answer 503 `UO`.
        case overflow
    }

    /// The settings in force.
    public private(set) var settings: ConnectionPoolSettings

    /// Requests dispatched and not finished.
    public private(set) var activeRequests = 0
    /// Connections open or opening.
    public private(set) var activeConnections = 0
    /// Requests queued for a connection.
    public private(set) var pendingRequests = 0
    /// Retries in progress.
    public private(set) var activeRetries = 0

    /// Requests refused by the request limit.
    public private(set) var requestOverflows = 0
    /// Connections not opened because of the connection limit (whether the request then queued or not).
    public private(set) var connectionOverflows = 0
    /// Requests refused because the pending queue was full.
    public private(set) var pendingOverflows = 0
    /// Retries not attempted because of the retry limit.
    public private(set) var retryOverflows = 0

    /// Creates circuit breakers; `nil` settings mean Istio's defaults (unlimited).
    public init(settings: ConnectionPoolSettings?) {
        self.settings = settings ?? ConnectionPoolSettings()
    }

    /// Applies new thresholds; counters are kept, and requests already admitted stay admitted.
    public mutating func update(settings: ConnectionPoolSettings?) {
        self.settings = settings ?? ConnectionPoolSettings()
    }

    /// Admits a request if fewer than `http2MaxRequests` are active, counting it.
    ///
    /// - Returns: `false` when the limit is reached: answer 503 `UO` with `x-envoy-overloaded: true`.
    public mutating func startRequest() -> Bool {
        guard activeRequests < settings.effectiveMaxRequests else {
            requestOverflows += 1
            return false
        }
        activeRequests += 1
        return true
    }

    /// Releases a request admitted by ``startRequest()``.
    public mutating func finishRequest() {
        activeRequests = max(0, activeRequests - 1)
    }

    /// Decides how a request gets an HTTP/1.1 connection: reuse an idle one, open one while fewer than
    /// `maxConnections` are open, queue while fewer than `http1MaxPendingRequests` are queued, or
    /// overflow.
    ///
    /// - Parameter idleAvailable: Whether the pool has an idle connection the request may use.
    public mutating func needConnection(idleAvailable: Bool) -> ConnectionDecision {
        if idleAvailable { return .reuseIdle }
        if activeConnections < settings.effectiveMaxConnections {
            activeConnections += 1
            return .open
        }
        connectionOverflows += 1
        if pendingRequests < settings.effectiveMaxPendingRequests {
            pendingRequests += 1
            return .queue
        }
        pendingOverflows += 1
        return .overflow
    }

    /// Counts a connection opened for a queued request that a closed connection's slot was handed to: the slot
    /// passes on even if a reload lowered the limit meanwhile (the count then drains as connections close).
    public mutating func takeConnectionSlot() {
        activeConnections += 1
    }

    /// Releases a connection counted by ``ConnectionDecision/open``, when it closes or fails to connect.
    public mutating func connectionClosed() {
        activeConnections = max(0, activeConnections - 1)
    }

    /// Releases a request counted by ``ConnectionDecision/queue``: it got a connection or gave up.
    public mutating func pendingResolved() {
        pendingRequests = max(0, pendingRequests - 1)
    }

    /// Admits a retry if fewer than `maxRetries` are in progress, counting it.
    ///
    /// - Returns: `false` when the limit is reached: the retry is not attempted and the last response
    ///   goes to the client.
    public mutating func startRetry() -> Bool {
        guard activeRetries < settings.effectiveMaxRetries else {
            retryOverflows += 1
            return false
        }
        activeRetries += 1
        return true
    }

    /// Releases a retry admitted by ``startRetry()``, when the retried request finishes.
    public mutating func finishRetry() {
        activeRetries = max(0, activeRetries - 1)
    }

    /// Whether a connection that has served `connectionServedRequests` requests may take another:
    /// always when `maxRequestsPerConnection` is unset or 0, never when it is 1 (no keep-alive),
    /// otherwise while fewer than that many have been served.
    public func mayReuse(connectionServedRequests: Int) -> Bool {
        guard let limit = settings.maxRequestsPerConnection, limit > 0 else { return true }
        return connectionServedRequests < limit
    }
}
