// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

@testable import WeftWaypoint

@Suite("Local rate limits")
struct RateLimiterTests {
    static func limit(_ name: String, _ requests: Int, burst: Int? = nil) -> LocalRateLimit {
        LocalRateLimit(
            namespace: "shop", name: name, target: .service(namespace: "shop", name: "reviews", port: nil),
            requests: requests, unit: .second, burst: burst ?? requests
        )
    }

    @Test("a bucket admits its burst, refuses the next, and refills with time")
    func bucket() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        let ten = Self.limit("ten", 10)
        for _ in 0..<10 { #expect(limiter.refuse([ten], now: t0) == nil) }
        let refused = limiter.refuse([ten], now: t0)
        #expect(refused?.0 == ten)
        #expect(limiter.refuse([ten], now: t0 + .milliseconds(100)) == nil)  // 10/s: one token per 100 ms
        #expect(limiter.refuse([ten], now: t0 + .milliseconds(100)) != nil)
    }

    @Test("the first refusing limit is reported; a changed limit starts a fresh bucket")
    func order() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        let one = Self.limit("one", 1)
        let hundred = Self.limit("hundred", 100)
        #expect(limiter.refuse([one, hundred], now: t0) == nil)
        #expect(limiter.refuse([one, hundred], now: t0)?.0 == one)
        let raised = Self.limit("one", 5)
        for _ in 0..<5 { #expect(limiter.refuse([raised], now: t0) == nil) }
        #expect(limiter.refuse([raised], now: t0) != nil)
    }
}
