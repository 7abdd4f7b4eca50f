// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import WeftCluster
import WeftRoute

/// The token buckets of the waypoint's LocalRateLimitPolicies, one per (policy, target), local to this waypoint
/// instance as Envoy's local rate limit is. A bucket survives reloads while its limit is unchanged.
final class RateLimiter: Sendable {
    private struct Entry {
        var limit: LocalRateLimit
        var bucket: TokenBucket
    }

    private let buckets = NIOLockedValueBox<[LocalRateLimit.ID: Entry]>([:])

    /// Charges `limits` in order (most specific first) and returns the first that refuses, with the time until
    /// its bucket has a token again; `nil`: the request may go on.
    func refuse(_ limits: [LocalRateLimit], now: ContinuousClock.Instant = .now) -> (LocalRateLimit, Duration)? {
        guard !limits.isEmpty else { return nil }
        return buckets.withLockedValue { buckets in
            for limit in limits {
                var entry = buckets[limit.id]
                if entry == nil || entry!.limit != limit {
                    entry = Entry(
                        limit: limit,
                        bucket: TokenBucket(capacity: limit.burst, tokensPerInterval: limit.requests, interval: limit.interval, now: now)
                    )
                }
                let admitted = entry!.bucket.take(now: now)
                buckets[limit.id] = entry
                if !admitted { return (limit, entry!.bucket.timeUntilNextToken(now: now)) }
            }
            return nil
        }
    }
}
