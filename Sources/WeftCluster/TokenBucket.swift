// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A token bucket for local rate limiting, driven by an injected clock.
///
/// The bucket starts full with `capacity` tokens. Each admitted request takes one token; a request that
/// finds the bucket empty is limited (the waypoint answers 429 with `x-ratelimit-reset` from
/// ``timeUntilNextToken(now:)``).
///
/// **Refill.** Tokens come back *continuously* at `tokensPerInterval / interval`, never above
/// `capacity`: with 100 tokens per second one token returns every 10 ms. Envoy's local rate limit
/// instead adds `tokens_per_fill` at once at each `fill_interval` tick; the long-run rate is the same,
/// but Weft admits requests as soon as a whole token has accrued rather than in bursts at each tick.
///
/// **Exactness.** Accounting is in integers: elapsed nanoseconds × tokens per interval, with the
/// remainder below one token carried to the next update, so the bucket neither gains nor loses
/// fractions of a token however often it is queried. A full bucket does not bank credit. An instant
/// earlier than the last update (which a monotonic clock never produces) adds nothing.
public struct TokenBucket: Hashable, Sendable {
    /// The most tokens the bucket holds, and what it starts with.
    public let capacity: Int
    /// Tokens added per ``interval``.
    public let tokensPerInterval: Int
    /// The refill period.
    public let interval: Duration

    /// Whole tokens available at ``updatedAt``.
    private var tokens: Int
    /// Credit toward the next token, in units of 1 / `intervalNanoseconds` token; below one token.
    private var credit: UInt128
    /// The instant the counts above are valid for.
    private var updatedAt: ContinuousClock.Instant
    /// ``interval`` in nanoseconds, at least 1.
    private let intervalNanoseconds: UInt64

    /// Creates a full bucket.
    ///
    /// Configuration should reject non-positive values before they get here; to stay total the
    /// initialiser raises `capacity` and `tokensPerInterval` below 1 to 1, and `interval` below 1 ns
    /// to 1 ns.
    ///
    /// - Parameters:
    ///   - capacity: The burst size and starting number of tokens.
    ///   - tokensPerInterval: Tokens added per `interval`.
    ///   - interval: The refill period.
    ///   - now: The current instant.
    public init(capacity: Int, tokensPerInterval: Int, interval: Duration, now: ContinuousClock.Instant) {
        self.capacity = max(1, capacity)
        self.tokensPerInterval = max(1, tokensPerInterval)
        self.intervalNanoseconds = max(1, interval.nonNegativeNanoseconds)
        self.interval = .nanoseconds(Int64(intervalNanoseconds))
        self.tokens = self.capacity
        self.credit = 0
        self.updatedAt = now
    }

    /// Takes one token if one is available at `now`.
    ///
    /// - Returns: `true` when the request is admitted, `false` when it is rate limited.
    public mutating func take(now: ContinuousClock.Instant) -> Bool {
        refill(now: now)
        guard tokens > 0 else { return false }
        tokens -= 1
        return true
    }

    /// The whole tokens available at `now` (`x-ratelimit-remaining`).
    public func remaining(now: ContinuousClock.Instant) -> Int {
        var copy = self
        copy.refill(now: now)
        return copy.tokens
    }

    /// How long after `now` the next token is available: zero when one is available now, otherwise the
    /// time until enough credit has accrued for one whole token, rounded up to the nanosecond.
    /// The waypoint rounds it up to whole seconds for `x-ratelimit-reset`.
    public func timeUntilNextToken(now: ContinuousClock.Instant) -> Duration {
        var copy = self
        copy.refill(now: now)
        guard copy.tokens == 0 else { return .zero }
        let missing = UInt128(intervalNanoseconds) - copy.credit
        let rate = UInt128(tokensPerInterval)
        let nanoseconds = (missing + rate - 1) / rate
        return .nanoseconds(Int64(clamping: nanoseconds))
    }

    /// Adds the tokens accrued between ``updatedAt`` and `now`.
    private mutating func refill(now: ContinuousClock.Instant) {
        guard now > updatedAt else { return }
        let elapsed = (now - updatedAt).nonNegativeNanoseconds
        // Advance by the whole nanoseconds counted, so sub-nanosecond remainders are not lost.
        updatedAt = updatedAt + .nanoseconds(Int64(elapsed))
        guard tokens < capacity else {
            credit = 0
            return
        }
        let total = credit + UInt128(elapsed) * UInt128(tokensPerInterval)
        let added = total / UInt128(intervalNanoseconds)
        if added >= UInt128(capacity - tokens) {
            tokens = capacity
            credit = 0
        } else {
            tokens += Int(added)
            credit = total % UInt128(intervalNanoseconds)
        }
    }
}
