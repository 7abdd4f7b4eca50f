// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Envoy's fully jittered exponential back-off between retries.
///
/// Retry `n` (1-based: the first retry is 1) waits a uniformly random duration in
/// `[0, min((2ⁿ − 1) × base, maximum))`: with the defaults (base 25 ms, maximum 10 × base = 250 ms)
/// that is 0–25 ms, 0–75 ms, 0–175 ms, then 0–250 ms for every later retry. Full jitter spreads the
/// retries of many clients that failed together, so they do not hit a recovering backend in waves.
///
/// The waypoint sleeps the returned delay before sending retry `n`; the route timeout keeps running
/// during the sleep, as in Envoy.
///
/// Envoy draws `random % ((2ⁿ − 1) × base)` and then clamps the result to `maximum`, so once the
/// exponential bound passes the maximum a share of Envoy's delays equal the maximum exactly. Weft draws
/// uniformly below the capped bound instead, which keeps every delay strictly below the maximum and
/// the distribution flat. Delays have nanosecond resolution (Envoy's have milliseconds).
public struct RetryBackoff: Hashable, Sendable {
    /// Envoy's default base interval, 25 ms.
    public static let defaultBase: Duration = .milliseconds(25)

    /// The base interval; zero or less disables the back-off (every delay is zero).
    public var base: Duration
    /// The cap on the upper bound of the draw.
    public var maximum: Duration

    /// Creates a back-off.
    ///
    /// - Parameters:
    ///   - base: The base interval, 25 ms by default.
    ///   - maximum: The cap; `nil` means 10 × `base`, Envoy's default.
    public init(base: Duration = RetryBackoff.defaultBase, maximum: Duration? = nil) {
        self.base = base
        self.maximum = maximum ?? base * 10
    }

    /// The exclusive upper bound of the delay before retry `n`: `min((2ⁿ − 1) × base, maximum)`.
    ///
    /// `n` below 1 counts as 1. Large `n` cannot overflow: once `(2ⁿ − 1) × base` would exceed the
    /// maximum, the maximum is the bound.
    public func upperBound(forRetry n: Int) -> Duration {
        .nanoseconds(Int64(upperBoundNanoseconds(forRetry: n)))
    }

    /// A random delay before retry `n`, uniform in `[0, upperBound(forRetry: n))`; zero when the bound is
    /// zero.
    public func delay(forRetry n: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let bound = upperBoundNanoseconds(forRetry: n)
        guard bound > 0 else { return .zero }
        return .nanoseconds(Int64(UInt64.random(in: 0..<bound, using: &generator)))
    }

    /// A random delay before retry `n` (1-based) with the given base and maximum.
    ///
    /// - Parameters:
    ///   - n: The retry number; the first retry is 1.
    ///   - base: The base interval, 25 ms by default.
    ///   - maximum: The cap; `nil` means 10 × `base`.
    ///   - generator: The source of randomness.
    /// - Returns: A duration uniform in `[0, min((2ⁿ − 1) × base, maximum))`.
    public static func delay(
        forRetry n: Int,
        base: Duration = RetryBackoff.defaultBase,
        maximum: Duration? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        RetryBackoff(base: base, maximum: maximum).delay(forRetry: n, using: &generator)
    }

    /// The bound in nanoseconds; computed without overflow for any `n`.
    private func upperBoundNanoseconds(forRetry n: Int) -> UInt64 {
        let baseNanoseconds = base.nonNegativeNanoseconds
        let maximumNanoseconds = maximum.nonNegativeNanoseconds
        let retry = max(1, n)
        // 2⁶³ − 1 already overflows any positive base once multiplied; the cap applies.
        guard baseNanoseconds > 0 else { return 0 }
        guard retry < 63 else { return maximumNanoseconds }
        let multiplier = (UInt64(1) << UInt64(retry)) - 1
        let (exponential, overflow) = multiplier.multipliedReportingOverflow(by: baseNanoseconds)
        return overflow ? maximumNanoseconds : min(exponential, maximumNanoseconds)
    }
}
