// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// One Envoy retry condition (`x-envoy-retry-on` / `x-envoy-retry-grpc-on` policy), as Istio's
/// `retries.retryOn` lists them.
public enum RetryCondition: String, CaseIterable, Hashable, Sendable {
    /// Any 5xx, or no response (disconnect, reset, read timeout); includes connect failures and refused
    /// streams.
    case fiveXX = "5xx"
    /// 502, 503 and 504 only.
    case gatewayError = "gateway-error"
    /// The upstream did not respond (disconnect, reset, read timeout).
    case reset
    /// A TCP connect failure or timeout.
    case connectFailure = "connect-failure"
    /// The upstream reset the stream with REFUSED_STREAM.
    case refusedStream = "refused-stream"
    /// 409 only.
    case retriable4xx = "retriable-4xx"
    /// The codes listed in the policy (``RetryPolicy/retriableStatusCodes``).
    case retriableStatusCodes = "retriable-status-codes"
    /// The response carries a listed header.
    case retriableHeaders = "retriable-headers"
    /// `x-envoy-ratelimited` is present.
    case envoyRateLimited = "envoy-ratelimited"
    /// gRPC status 1 in the response headers.
    case cancelled
    /// gRPC status 4 in the response headers.
    case deadlineExceeded = "deadline-exceeded"
    /// gRPC status 13 in the response headers.
    case `internal`
    /// gRPC status 8 in the response headers.
    case resourceExhausted = "resource-exhausted"
    /// gRPC status 14 in the response headers.
    case unavailable

    /// The gRPC status code a gRPC condition retries on; `nil` for HTTP conditions.
    public var grpcStatus: Int? {
        switch self {
        case .cancelled: return 1
        case .deadlineExceeded: return 4
        case .resourceExhausted: return 8
        case .internal: return 13
        case .unavailable: return 14
        default: return nil
        }
    }
}
