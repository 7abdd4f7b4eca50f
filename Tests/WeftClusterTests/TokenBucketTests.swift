// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftCluster
import XCTest

final class TokenBucketTests: XCTestCase {
    func testHundredPerSecondExactCounts() {
        var bucket = TokenBucket(capacity: 100, tokensPerInterval: 100, interval: .seconds(1), now: t0)
        XCTAssertEqual(bucket.remaining(now: t0), 100)
        for request in 1...100 {
            XCTAssertTrue(bucket.take(now: t0), "request \(request)")
        }
        XCTAssertFalse(bucket.take(now: t0), "the 101st request is limited")
        XCTAssertEqual(bucket.remaining(now: t0), 0)
        XCTAssertEqual(bucket.timeUntilNextToken(now: t0), .milliseconds(10))

        let almost = t0 + .microseconds(9_999)
        XCTAssertFalse(bucket.take(now: almost))
        XCTAssertEqual(bucket.timeUntilNextToken(now: almost), .microseconds(1))

        XCTAssertTrue(bucket.take(now: at(ms: 10)), "one token after 10 ms")
        XCTAssertFalse(bucket.take(now: at(ms: 10)))

        let later = at(ms: 1_010)
        XCTAssertEqual(bucket.remaining(now: later), 100)
        for request in 1...100 {
            XCTAssertTrue(bucket.take(now: later), "request \(request) after 1 s")
        }
        XCTAssertFalse(bucket.take(now: later))
    }

    func testNoFractionIsLostOverManySmallSteps() {
        var bucket = TokenBucket(capacity: 100, tokensPerInterval: 100, interval: .seconds(1), now: t0)
        for _ in 0..<100 { _ = bucket.take(now: t0) }
        var admitted = 0
        for millisecond in 1...1_000 where bucket.take(now: at(ms: Int64(millisecond))) {
            admitted += 1
        }
        XCTAssertEqual(admitted, 100, "one token every 10 ms, exactly")
    }

    func testRateThatDoesNotDivideTheIntervalStaysExact() {
        // 3 tokens per second: one every 333 333 333.3… ns.
        var bucket = TokenBucket(capacity: 3, tokensPerInterval: 3, interval: .seconds(1), now: t0)
        for _ in 0..<3 { XCTAssertTrue(bucket.take(now: t0)) }
        XCTAssertEqual(bucket.timeUntilNextToken(now: t0), .nanoseconds(333_333_334))
        XCTAssertFalse(bucket.take(now: t0 + .nanoseconds(333_333_333)))
        XCTAssertTrue(bucket.take(now: t0 + .nanoseconds(333_333_334)))

        var stepped = TokenBucket(capacity: 3, tokensPerInterval: 3, interval: .seconds(1), now: t0)
        for _ in 0..<3 { _ = stepped.take(now: t0) }
        var admitted = 0
        for millisecond in 1...3_000 where stepped.take(now: at(ms: Int64(millisecond))) {
            admitted += 1
        }
        XCTAssertEqual(admitted, 9)
    }

    func testRemainingAndResetDoNotConsume() {
        let bucket = TokenBucket(capacity: 2, tokensPerInterval: 1, interval: .seconds(1), now: t0)
        XCTAssertEqual(bucket.remaining(now: t0), 2)
        XCTAssertEqual(bucket.timeUntilNextToken(now: t0), .zero)
        XCTAssertEqual(bucket.remaining(now: t0), 2)
    }

    func testFullBucketDoesNotBankCredit() {
        var bucket = TokenBucket(capacity: 5, tokensPerInterval: 1, interval: .seconds(1), now: t0)
        XCTAssertEqual(bucket.remaining(now: at(s: 100)), 5)
        for _ in 0..<5 { XCTAssertTrue(bucket.take(now: at(s: 100))) }
        XCTAssertFalse(bucket.take(now: at(s: 100)))
        XCTAssertEqual(bucket.timeUntilNextToken(now: at(s: 100)), .seconds(1))
        XCTAssertTrue(bucket.take(now: at(s: 101)))
    }

    func testPartialRefillBelowCapacity() {
        var bucket = TokenBucket(capacity: 10, tokensPerInterval: 2, interval: .seconds(1), now: t0)
        for _ in 0..<10 { _ = bucket.take(now: t0) }
        XCTAssertEqual(bucket.remaining(now: at(ms: 2_750)), 5)
        XCTAssertEqual(bucket.timeUntilNextToken(now: at(ms: 2_750)), .zero)
        XCTAssertEqual(bucket.remaining(now: at(s: 60)), 10)
    }

    func testClockGoingBackwardsAddsNothing() {
        var bucket = TokenBucket(capacity: 1, tokensPerInterval: 1, interval: .seconds(1), now: at(s: 10))
        XCTAssertTrue(bucket.take(now: at(s: 10)))
        XCTAssertFalse(bucket.take(now: at(s: 5)))
        XCTAssertFalse(bucket.take(now: at(ms: 10_999)))
        XCTAssertTrue(bucket.take(now: at(s: 11)))
    }

    func testNonPositiveConfigurationIsRaisedToOne() {
        let bucket = TokenBucket(capacity: 0, tokensPerInterval: -4, interval: .zero, now: t0)
        XCTAssertEqual(bucket.capacity, 1)
        XCTAssertEqual(bucket.tokensPerInterval, 1)
        XCTAssertEqual(bucket.interval, .nanoseconds(1))
    }
}
