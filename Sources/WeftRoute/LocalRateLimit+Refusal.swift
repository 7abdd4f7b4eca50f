// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The answer to a request a ``LocalRateLimit`` refuses, the same for every waypoint.
extension LocalRateLimit {
    /// The status of a refused request: 429 Too Many Requests.
    public static let refusalStatusCode = 429
    /// The body of a refused request (`text/plain`), as Envoy's local rate limit filter answers.
    public static let refusalBody = "local_rate_limited"
    /// The Envoy response flag of a refused request, for the access log and `response_flags` label.
    public static let responseFlag = "RL"

    /// The headers of a refused request, describing this (the refusing) limit.
    ///
    /// `x-local-rate-limit: true`; `x-ratelimit-limit`: ``requests`` (per ``unit``);
    /// `x-ratelimit-remaining: 0`; `x-ratelimit-reset`: whole seconds until the bucket is next refilled,
    /// rounded up and at least 1.
    ///
    /// - Parameter resetAfter: The time until the bucket is next refilled.
    public func refusalHeaders(resetAfter: Duration) -> [HTTPHeaderField] {
        [
            HTTPHeaderField("x-local-rate-limit", "true"),
            HTTPHeaderField("x-ratelimit-limit", String(requests)),
            HTTPHeaderField("x-ratelimit-remaining", "0"),
            HTTPHeaderField("x-ratelimit-reset", String(Self.wholeSeconds(resetAfter))),
        ]
    }

    /// `duration` in whole seconds, rounded up, at least 1.
    static func wholeSeconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }
}
