// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftCluster
import XCTest

final class RetryBackoffTests: XCTestCase {
    /// Upper bounds with the defaults: (2ⁿ − 1) × 25 ms, capped at 250 ms.
    static let expectedBounds: [Int: Duration] = [
        1: .milliseconds(25), 2: .milliseconds(75), 3: .milliseconds(175),
        4: .milliseconds(250), 5: .milliseconds(250), 6: .milliseconds(250),
    ]

    func testUpperBoundsForRetriesOneToSix() {
        let backoff = RetryBackoff()
        XCTAssertEqual(backoff.maximum, .milliseconds(250))
        for (retry, bound) in Self.expectedBounds {
            XCTAssertEqual(backoff.upperBound(forRetry: retry), bound, "retry \(retry)")
        }
    }

    func testEverySampleIsWithinBoundsAndTheMaximumApproachesTheBound() {
        var generator = SeededGenerator(seed: 1)
        for retry in 1...6 {
            let bound = Self.expectedBounds[retry]!
            var largest = Duration.zero
            var smallest = bound
            var sum = 0.0
            let samples = 20_000
            for _ in 0..<samples {
                let delay = RetryBackoff.delay(forRetry: retry, using: &generator)
                XCTAssertGreaterThanOrEqual(delay, .zero)
                XCTAssertLessThan(delay, bound, "retry \(retry)")
                largest = max(largest, delay)
                smallest = min(smallest, delay)
                sum += delay / bound
            }
            XCTAssertGreaterThan(largest, bound * 0.99, "retry \(retry): the draw reaches the top of the range")
            XCTAssertLessThan(smallest, bound * 0.01, "retry \(retry): and the bottom")
            XCTAssertEqual(sum / Double(samples), 0.5, accuracy: 0.02, "retry \(retry): uniform mean")
        }
    }

    func testCapHoldsForLargeRetryNumbersWithoutOverflow() {
        var generator = SeededGenerator(seed: 2)
        for retry in [7, 10, 40, 62, 63, 64, 1000, Int.max] {
            XCTAssertEqual(RetryBackoff().upperBound(forRetry: retry), .milliseconds(250), "retry \(retry)")
            XCTAssertLessThan(RetryBackoff.delay(forRetry: retry, using: &generator), .milliseconds(250))
        }
        // A huge base with a huge multiplier must not trap either.
        XCTAssertEqual(
            RetryBackoff(base: .seconds(1_000_000_000), maximum: .seconds(2_000_000_000)).upperBound(forRetry: 60),
            .seconds(2_000_000_000))
    }

    func testRetryBelowOneCountsAsFirstRetry() {
        XCTAssertEqual(RetryBackoff().upperBound(forRetry: 0), .milliseconds(25))
        XCTAssertEqual(RetryBackoff().upperBound(forRetry: -3), .milliseconds(25))
    }

    func testCustomBaseAndMaximum() {
        let backoff = RetryBackoff(base: .milliseconds(100), maximum: .seconds(1))
        XCTAssertEqual(backoff.upperBound(forRetry: 1), .milliseconds(100))
        XCTAssertEqual(backoff.upperBound(forRetry: 3), .milliseconds(700))
        XCTAssertEqual(backoff.upperBound(forRetry: 4), .seconds(1))
        // Without an explicit maximum it is ten times the base.
        XCTAssertEqual(RetryBackoff(base: .milliseconds(100)).upperBound(forRetry: 10), .seconds(1))
    }

    func testZeroBaseMeansNoDelay() {
        var generator = SeededGenerator(seed: 3)
        XCTAssertEqual(RetryBackoff.delay(forRetry: 3, base: .zero, using: &generator), .zero)
    }

    func testSameSeedSameDelays() {
        var first = SeededGenerator(seed: 9)
        var second = SeededGenerator(seed: 9)
        let a = (1...6).map { RetryBackoff.delay(forRetry: $0, using: &first) }
        let b = (1...6).map { RetryBackoff().delay(forRetry: $0, using: &second) }
        XCTAssertEqual(a, b)
    }
}
