// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A VirtualService rule's retry policy, compiled: how many retries, the per-try timeout, and the typed
/// `retryOn` conditions with the retriable status codes.
///
/// Semantics the waypoint copies from Envoy: at most `1 + attempts` requests; the route timeout
/// includes every retry and back-off; `perTryTimeout` applies to each try including the first; a
/// connection reset is matched by ``RetryCondition/reset`` (or `5xx`), not by the code 503 the client
/// would see.
public struct RetryPolicy: Hashable, Sendable {
    /// Why a `retryOn` list is not valid.
    public struct ParseError: Error, Hashable, Sendable {
        /// What is wrong, for an operator.
        public var message: String
    }

    /// Retries after the first try; 0 disables retries.
    public var attempts: Int
    /// The timeout of each try; `nil` uses the route timeout (or none).
    public var perTryTimeout: Duration?
    /// The conditions that trigger a retry.
    public var conditions: Set<RetryCondition>
    /// Status codes that trigger a retry (bare integers in `retryOn`); they imply
    /// ``RetryCondition/retriableStatusCodes``.
    public var retriableStatusCodes: Set<Int>
    /// The back-off base interval; `nil` for Envoy's 25ms. Retry N waits a random time below
    /// `(2^N − 1) × base`, at most `10 × base`.
    public var backoff: Duration?

    /// Creates a policy.
    public init(
        attempts: Int,
        perTryTimeout: Duration? = nil,
        conditions: Set<RetryCondition>,
        retriableStatusCodes: Set<Int> = [],
        backoff: Duration? = nil
    ) {
        self.attempts = attempts
        self.perTryTimeout = perTryTimeout
        self.conditions = conditions
        self.retriableStatusCodes = retriableStatusCodes
        self.backoff = backoff
    }

    /// The conditions Istio sets when a rule has no `retries` (and keeps when `retryOn` is not given).
    public static let istioDefaultConditions: Set<RetryCondition> = [
        .connectFailure, .refusedStream, .unavailable, .cancelled, .retriableStatusCodes,
    ]

    /// Istio's policy for a rule without `retries`: 2 attempts on
    /// `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`, no codes listed.
    public static let istioDefault = RetryPolicy(attempts: 2, conditions: istioDefaultConditions)

    /// Whether any retry can happen.
    public var isEnabled: Bool { attempts > 0 && !conditions.isEmpty }

    /// Parses Istio's `retryOn`: comma-separated Envoy conditions and bare HTTP status codes (100–599),
    /// spaces around entries ignored. A code adds ``RetryCondition/retriableStatusCodes``, as Istio does.
    ///
    /// - Throws: ``ParseError`` naming the first unknown condition or invalid code.
    public static func parseRetryOn(
        _ text: String
    ) throws(ParseError) -> (conditions: Set<RetryCondition>, statusCodes: Set<Int>) {
        var conditions: Set<RetryCondition> = []
        var codes: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let token = part.trimmingSpaces
            if token.isEmpty {
                throw ParseError(message: "retryOn \"\(text)\" has an empty entry; separate conditions with one comma")
            }
            if token.allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard let code = Int(token), (100...599).contains(code) else {
                    throw ParseError(message: "retryOn status code \(token) is not between 100 and 599")
                }
                codes.insert(code)
                conditions.insert(.retriableStatusCodes)
            } else if let condition = RetryCondition(rawValue: String(token)) {
                conditions.insert(condition)
            } else {
                let known = RetryCondition.allCases.map(\.rawValue).joined(separator: ", ")
                throw ParseError(
                    message: "unknown retryOn condition \"\(token)\"; use \(known), or an HTTP status code")
            }
        }
        return (conditions, codes)
    }

    /// Whether a response with HTTP `status` (and, for gRPC, `grpcStatus` from the response headers) may
    /// be retried under this policy. Attempts and budgets are the caller's business.
    public func retries(status: Int, grpcStatus: Int? = nil) -> Bool {
        if conditions.contains(.fiveXX), (500...599).contains(status) { return true }
        if conditions.contains(.gatewayError), [502, 503, 504].contains(status) { return true }
        if conditions.contains(.retriable4xx), status == 409 { return true }
        if conditions.contains(.retriableStatusCodes), retriableStatusCodes.contains(status) { return true }
        if let grpcStatus, conditions.contains(where: { $0.grpcStatus == grpcStatus }) { return true }
        return false
    }

    /// Whether a try that passed its per-try timeout may be retried: Envoy treats it like a reset (`5xx`,
    /// `gateway-error` as a 504, `reset`).
    public var retriesAfterTimeout: Bool {
        !conditions.isDisjoint(with: [.fiveXX, .gatewayError, .reset])
    }

    /// Whether a try that got no response may be retried: `connectFailure` for a failed connect,
    /// `refusedStream` for REFUSED_STREAM, otherwise a reset or timeout.
    public func retriesWithoutResponse(connectFailure: Bool = false, refusedStream: Bool = false) -> Bool {
        if conditions.contains(.fiveXX) { return true }
        if connectFailure { return conditions.contains(.connectFailure) || conditions.contains(.reset) }
        if refusedStream { return conditions.contains(.refusedStream) || conditions.contains(.reset) }
        return conditions.contains(.reset)
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
