// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftCluster
import WeftRoute
import XCTest

final class CircuitBreakerTests: XCTestCase {
    /// maxConnections 1, http1MaxPendingRequests 1, five concurrent requests to a slow backend: one in
    /// flight, one queued and served after the first, three overflow.
    func testOneConnectionOnePendingFiveRequests() {
        var breaker = CircuitBreaker(settings: ConnectionPoolSettings(maxConnections: 1, http1MaxPendingRequests: 1))
        let decisions = (0..<5).map { _ in breaker.needConnection(idleAvailable: false) }
        XCTAssertEqual(decisions, [.open, .queue, .overflow, .overflow, .overflow])
        XCTAssertEqual(breaker.activeConnections, 1)
        XCTAssertEqual(breaker.pendingRequests, 1)
        XCTAssertEqual(breaker.connectionOverflows, 4)
        XCTAssertEqual(breaker.pendingOverflows, 3)

        // The first request goes out on the new connection.
        XCTAssertTrue(breaker.startRequest())
        XCTAssertEqual(breaker.activeRequests, 1)

        // It finishes; the pool hands the now idle connection to the queued request.
        breaker.finishRequest()
        breaker.pendingResolved()
        XCTAssertTrue(breaker.mayReuse(connectionServedRequests: 1))
        XCTAssertTrue(breaker.startRequest())
        XCTAssertEqual(breaker.activeRequests, 1)
        XCTAssertEqual(breaker.pendingRequests, 0)
        XCTAssertEqual(breaker.activeConnections, 1)

        // With the queue empty again a new request may queue behind the busy connection.
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .queue)
        breaker.pendingResolved()
        breaker.finishRequest()
        XCTAssertEqual(breaker.needConnection(idleAvailable: true), .reuseIdle)
        breaker.connectionClosed()
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .open, "a closed connection frees its slot")
    }

    func testRequestLimit() {
        var breaker = CircuitBreaker(settings: ConnectionPoolSettings(http2MaxRequests: 2))
        XCTAssertTrue(breaker.startRequest())
        XCTAssertTrue(breaker.startRequest())
        XCTAssertFalse(breaker.startRequest())
        XCTAssertEqual(breaker.requestOverflows, 1)
        XCTAssertEqual(breaker.activeRequests, 2)
        breaker.finishRequest()
        XCTAssertTrue(breaker.startRequest())
        XCTAssertFalse(breaker.startRequest())
        XCTAssertEqual(breaker.requestOverflows, 2)
    }

    func testRetryLimit() {
        var breaker = CircuitBreaker(settings: ConnectionPoolSettings(maxRetries: 1))
        XCTAssertTrue(breaker.startRetry())
        XCTAssertFalse(breaker.startRetry(), "the retry is not attempted")
        XCTAssertEqual(breaker.retryOverflows, 1)
        breaker.finishRetry()
        XCTAssertTrue(breaker.startRetry())

        var none = CircuitBreaker(settings: ConnectionPoolSettings(maxRetries: 0))
        XCTAssertFalse(none.startRetry())
    }

    func testUnsetThresholdsAreIstioUnlimited() {
        var breaker = CircuitBreaker(settings: nil)
        for _ in 0..<10_000 {
            XCTAssertTrue(breaker.startRequest())
            XCTAssertTrue(breaker.startRetry())
            XCTAssertEqual(breaker.needConnection(idleAvailable: false), .open)
        }
        XCTAssertEqual(breaker.activeRequests, 10_000)
        XCTAssertEqual(breaker.settings.effectiveMaxRequests, 4_294_967_295)
        XCTAssertEqual(breaker.requestOverflows + breaker.retryOverflows + breaker.connectionOverflows, 0)
    }

    func testPerConnectionReuse() {
        let unlimited = CircuitBreaker(settings: nil)
        XCTAssertTrue(unlimited.mayReuse(connectionServedRequests: 1_000_000))
        XCTAssertTrue(CircuitBreaker(settings: ConnectionPoolSettings(maxRequestsPerConnection: 0)).mayReuse(connectionServedRequests: 50))
        let noKeepAlive = CircuitBreaker(settings: ConnectionPoolSettings(maxRequestsPerConnection: 1))
        XCTAssertTrue(noKeepAlive.mayReuse(connectionServedRequests: 0))
        XCTAssertFalse(noKeepAlive.mayReuse(connectionServedRequests: 1))
        let three = CircuitBreaker(settings: ConnectionPoolSettings(maxRequestsPerConnection: 3))
        XCTAssertTrue(three.mayReuse(connectionServedRequests: 2))
        XCTAssertFalse(three.mayReuse(connectionServedRequests: 3))
    }

    func testCountersNeverGoNegative() {
        var breaker = CircuitBreaker(settings: ConnectionPoolSettings(maxConnections: 1, http1MaxPendingRequests: 0, http2MaxRequests: 1, maxRetries: 1))
        breaker.finishRequest()
        breaker.connectionClosed()
        breaker.pendingResolved()
        breaker.finishRetry()
        XCTAssertEqual([breaker.activeRequests, breaker.activeConnections, breaker.pendingRequests, breaker.activeRetries], [0, 0, 0, 0])
        // The limits still hold afterwards: over-finishing did not buy extra capacity.
        XCTAssertTrue(breaker.startRequest())
        XCTAssertFalse(breaker.startRequest())
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .open)
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .overflow, "no pending slots at all")
    }

    func testUpdateKeepsCounters() {
        var breaker = CircuitBreaker(settings: ConnectionPoolSettings(http2MaxRequests: 5))
        for _ in 0..<3 { XCTAssertTrue(breaker.startRequest()) }
        breaker.update(settings: ConnectionPoolSettings(http2MaxRequests: 2))
        XCTAssertEqual(breaker.activeRequests, 3)
        XCTAssertFalse(breaker.startRequest(), "already above the new limit")
        breaker.finishRequest()
        breaker.finishRequest()
        XCTAssertTrue(breaker.startRequest())
    }

    func testSlotHandedToAWaiterAfterTheLimitWasLowered() {
        var breaker = CircuitBreaker(settings: ConnectionPoolSettings(maxConnections: 2, http1MaxPendingRequests: 1))
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .open)
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .open)
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .queue)
        breaker.update(settings: ConnectionPoolSettings(maxConnections: 1, http1MaxPendingRequests: 1))
        // A connection closes; its slot goes to the queued request without touching the pending count again.
        breaker.connectionClosed()
        breaker.pendingResolved()
        breaker.takeConnectionSlot()
        XCTAssertEqual(breaker.activeConnections, 2)
        XCTAssertEqual(breaker.pendingRequests, 0)
        // Over the new limit: new requests queue until connections drain below it.
        XCTAssertEqual(breaker.needConnection(idleAvailable: false), .queue)
    }
}
