// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftCluster
import WeftRoute
import XCTest

final class OutlierDetectorTests: XCTestCase {
    let endpoints = endpointList(10)
    var a: String { endpoints[0] }
    var b: String { endpoints[1] }

    func detector(_ settings: OutlierDetectionSettings? = OutlierDetectionSettings(), endpoints: [String]? = nil) -> OutlierDetector {
        OutlierDetector(settings: settings, endpoints: endpoints ?? self.endpoints)
    }

    /// Records `count` results of `status` for `endpoint` at `now`; the last event.
    @discardableResult
    func fail(
        _ detector: inout OutlierDetector, _ endpoint: String, _ count: Int = 5,
        status: Int = 503, now: ContinuousClock.Instant = t0
    ) -> OutlierDetector.Event {
        var event = OutlierDetector.Event.ignored
        for _ in 0..<count { event = detector.record(endpoint: endpoint, result: .response(status: status), now: now) }
        return event
    }

    func testDefaults() {
        let configuration = OutlierDetector.Configuration(OutlierDetectionSettings())
        XCTAssertEqual(configuration.consecutive5xxErrors, 5)
        XCTAssertEqual(configuration.consecutiveGatewayErrors, 0)
        XCTAssertEqual(configuration.interval, .seconds(10))
        XCTAssertEqual(configuration.baseEjectionTime, .seconds(30))
        XCTAssertEqual(configuration.maxEjectionTime, .seconds(300))
        XCTAssertEqual(configuration.maxEjectionPercent, 10)
        XCTAssertEqual(configuration.minHealthPercent, 0)
    }

    func testFiveConsecutive503sEject() {
        var detector = detector()
        XCTAssertEqual(fail(&detector, a, 4), .counted)
        XCTAssertFalse(detector.isEjected(a, now: t0))
        XCTAssertEqual(fail(&detector, a, 1), .ejected(until: at(s: 30)))
        XCTAssertTrue(detector.isEjected(a, now: t0))
        XCTAssertTrue(detector.isEjected(a, now: at(ms: 29_999)))
        XCTAssertFalse(detector.isEjected(a, now: at(s: 30)))
        XCTAssertFalse(detector.isEjected(b, now: t0))
        XCTAssertEqual(detector.ejectedCount(now: t0), 1)
        XCTAssertEqual(detector.ejectedCount(now: at(s: 30)), 0)
    }

    func testSuccessInBetweenResets() {
        var detector = detector()
        fail(&detector, a, 4)
        detector.record(endpoint: a, result: .response(status: 200), now: t0)
        fail(&detector, a, 4)
        XCTAssertFalse(detector.isEjected(a, now: t0))
        fail(&detector, a, 1, status: 404)
        fail(&detector, a, 4, status: 500)
        XCTAssertFalse(detector.isEjected(a, now: t0), "a 4xx resets the count too")
        fail(&detector, a, 1, status: 599)
        XCTAssertTrue(detector.isEjected(a, now: t0))
    }

    func testGatewayErrorsThreshold() {
        var detector = detector(OutlierDetectionSettings(consecutive5xxErrors: 0, consecutiveGatewayErrors: 3))
        for status in [502, 503, 500, 504, 502] {
            detector.record(endpoint: a, result: .response(status: status), now: t0)
        }
        XCTAssertFalse(detector.isEjected(a, now: t0), "a 500 resets the gateway count")
        fail(&detector, a, 1, status: 504)
        XCTAssertTrue(detector.isEjected(a, now: t0))

        var byDefault = self.detector(OutlierDetectionSettings(consecutive5xxErrors: 0))
        fail(&byDefault, a, 50, status: 502)
        XCTAssertFalse(byDefault.isEjected(a, now: t0), "gateway errors are off by default, and 0 disables 5xx")
    }

    func testGatewayThresholdBelowTheServerErrorThreshold() {
        var detector = detector(OutlierDetectionSettings(consecutive5xxErrors: 5, consecutiveGatewayErrors: 2))
        fail(&detector, a, 4, status: 500)
        XCTAssertFalse(detector.isEjected(a, now: t0))
        fail(&detector, b, 2, status: 503)
        XCTAssertTrue(detector.isEjected(b, now: t0))
    }

    func testLocalFailuresCountAsServerAndGatewayErrors() {
        var detector = detector()
        for _ in 0..<4 { detector.record(endpoint: a, result: .localFailure, now: t0) }
        XCTAssertFalse(detector.isEjected(a, now: t0))
        detector.record(endpoint: a, result: .response(status: 503), now: t0)
        XCTAssertTrue(detector.isEjected(a, now: t0), "local failures and 5xx add up")

        var gateway = self.detector(OutlierDetectionSettings(consecutive5xxErrors: 0, consecutiveGatewayErrors: 2))
        gateway.record(endpoint: a, result: .localFailure, now: t0)
        gateway.record(endpoint: a, result: .localFailure, now: t0)
        XCTAssertTrue(gateway.isEjected(a, now: t0))
    }

    func testEjectionLastsBaseTimesCount() {
        var detector = detector()
        XCTAssertEqual(fail(&detector, a), .ejected(until: at(s: 30)))
        XCTAssertEqual(fail(&detector, a, now: at(s: 10)), .ignored, "results while ejected are not counted")
        XCTAssertEqual(fail(&detector, a, now: at(s: 30)), .ejected(until: at(s: 90)), "twice as long")
        XCTAssertEqual(detector.snapshot(now: at(s: 30)).first?.ejectionCount, 2)
        XCTAssertEqual(fail(&detector, a, now: at(s: 90)), .ejected(until: at(s: 180)), "three times")
    }

    func testEjectionTimeIsCapped() {
        var detector = detector(OutlierDetectionSettings(baseEjectionTime: .seconds(200)))
        XCTAssertEqual(fail(&detector, a), .ejected(until: at(s: 200)))
        XCTAssertEqual(fail(&detector, a, now: at(s: 200)), .ejected(until: at(s: 500)), "max(300 s, base)")

        var long = self.detector(OutlierDetectionSettings(baseEjectionTime: .seconds(400)))
        XCTAssertEqual(fail(&long, a), .ejected(until: at(s: 400)))
        XCTAssertEqual(fail(&long, a, now: at(s: 400)), .ejected(until: at(s: 800)), "a base above 300 s is the cap")
    }

    func testEjectionCountDecaysWhileHealthy() {
        var detector = detector()
        fail(&detector, a)  // ejected until 30 s, count 1
        fail(&detector, a, now: at(s: 30))  // until 90 s, count 2
        XCTAssertEqual(detector.snapshot(now: at(ms: 99_999)).first?.ejectionCount, 2)
        XCTAssertEqual(detector.snapshot(now: at(s: 100)).first?.ejectionCount, 1, "one interval healthy")
        XCTAssertEqual(detector.snapshot(now: at(s: 110)).first?.ejectionCount, 0)
        XCTAssertEqual(detector.snapshot(now: at(s: 1_000)).first?.ejectionCount, 0)

        // Ejected again after one healthy interval: count 1 + 1 = 2, so 60 s.
        XCTAssertEqual(fail(&detector, a, now: at(s: 105)), .ejected(until: at(s: 165)))
        // And after a long healthy stretch it starts over at 30 s.
        XCTAssertEqual(fail(&detector, a, now: at(s: 1_000)), .ejected(until: at(s: 1_030)))
    }

    func testDecayIsNotDoubleCounted() {
        var detector = detector()
        fail(&detector, a)  // until 30 s
        fail(&detector, a, now: at(s: 30))  // until 90 s, count 2
        // A result at 95 s materialises no decay yet; one at 100 s decays one interval, counted once.
        detector.record(endpoint: a, result: .response(status: 200), now: at(s: 95))
        detector.record(endpoint: a, result: .response(status: 200), now: at(s: 100))
        detector.record(endpoint: a, result: .response(status: 200), now: at(s: 105))
        XCTAssertEqual(detector.snapshot(now: at(s: 109)).first?.ejectionCount, 1)
        XCTAssertEqual(detector.snapshot(now: at(s: 110)).first?.ejectionCount, 0)
    }

    func testMaxEjectionPercentOfTenEndpoints() {
        var detector = detector()
        XCTAssertEqual(fail(&detector, a), .ejected(until: at(s: 30)))
        XCTAssertEqual(fail(&detector, b), .overflow, "10 % of 10 endpoints is one")
        XCTAssertFalse(detector.isEjected(b, now: t0))
        XCTAssertEqual(detector.ejectedCount(now: t0), 1)
        // The overflow reset b's count: after a's return, b needs five new errors.
        XCTAssertEqual(fail(&detector, b, 4, now: at(s: 30)), .counted)
        XCTAssertEqual(fail(&detector, b, 1, now: at(s: 30)), .ejected(until: at(s: 60)))
    }

    func testAtLeastOneEndpointCanBeEjected() {
        var detector = detector(endpoints: [a, b])
        XCTAssertEqual(fail(&detector, a), .ejected(until: at(s: 30)), "10 % of 2 is under one, but one may go")
        XCTAssertEqual(fail(&detector, b), .overflow)
        XCTAssertEqual(detector.ejectedCount(now: t0), 1)

        var none = self.detector(OutlierDetectionSettings(maxEjectionPercent: 0), endpoints: [a, b])
        XCTAssertEqual(fail(&none, a), .ejected(until: at(s: 30)))
        XCTAssertEqual(fail(&none, b), .overflow)
    }

    func testHigherMaxEjectionPercent() {
        var detector = detector(OutlierDetectionSettings(maxEjectionPercent: 50), endpoints: Array(endpoints.prefix(4)))
        XCTAssertEqual(fail(&detector, endpoints[0]), .ejected(until: at(s: 30)))
        XCTAssertEqual(fail(&detector, endpoints[1]), .ejected(until: at(s: 30)))
        XCTAssertEqual(fail(&detector, endpoints[2]), .overflow)
        XCTAssertEqual(detector.ejectedCount(now: t0), 2)
    }

    func testMinHealthPercentPanic() {
        let four = Array(endpoints.prefix(4))
        var detector = detector(OutlierDetectionSettings(maxEjectionPercent: 100, minHealthPercent: 60), endpoints: four)
        XCTAssertFalse(detector.ignoresEjections(now: t0))
        fail(&detector, four[0])
        XCTAssertFalse(detector.ignoresEjections(endpointCount: 4, now: t0), "75 % healthy")
        fail(&detector, four[1])
        XCTAssertTrue(detector.ignoresEjections(endpointCount: 4, now: t0), "50 % healthy is below 60 %")
        XCTAssertTrue(detector.ignoresEjections(now: t0))
        XCTAssertFalse(detector.ignoresEjections(endpointCount: 4, now: at(s: 30)), "ejections over")

        var byDefault = self.detector(OutlierDetectionSettings(maxEjectionPercent: 100), endpoints: four)
        for endpoint in four { fail(&byDefault, endpoint) }
        XCTAssertEqual(byDefault.ejectedCount(now: t0), 4)
        XCTAssertFalse(byDefault.ignoresEjections(now: t0), "minHealthPercent 0 never panics")
        XCTAssertFalse(byDefault.ignoresEjections(endpointCount: 0, now: t0))
    }

    func testNoSettingsNeverEjects() {
        var detector = detector(nil)
        XCTAssertEqual(fail(&detector, a, 100), .ignored)
        XCTAssertFalse(detector.isEjected(a, now: t0))
        XCTAssertEqual(detector.ejectedCount(now: t0), 0)
        XCTAssertNil(detector.configuration)
    }

    func testUnknownEndpointIsIgnored() {
        var detector = detector()
        XCTAssertEqual(fail(&detector, "10.9.9.9:80"), .ignored)
        XCTAssertFalse(detector.isEjected("10.9.9.9:80", now: t0))
    }

    func testUpdateKeepsRemainingEndpointsAndForgetsTheOthers() {
        var detector = detector(OutlierDetectionSettings(maxEjectionPercent: 100))
        fail(&detector, a)
        fail(&detector, b, 3)
        fail(&detector, endpoints[2])
        detector.update(settings: OutlierDetectionSettings(maxEjectionPercent: 100), endpoints: [b, a, "new:1"])
        XCTAssertEqual(detector.endpoints, [b, a, "new:1"])
        XCTAssertTrue(detector.isEjected(a, now: t0))
        XCTAssertFalse(detector.isEjected(endpoints[2], now: t0), "forgotten")
        XCTAssertEqual(detector.ejectedCount(now: t0), 1)
        XCTAssertEqual(fail(&detector, b, 2), .ejected(until: at(s: 30)), "b kept its three errors")
        let snapshot = detector.snapshot(now: t0)
        XCTAssertEqual(snapshot.map(\.endpoint), [b, a, "new:1"])
        XCTAssertEqual(snapshot[2], .init(endpoint: "new:1", consecutive5xx: 0, consecutiveGatewayErrors: 0, ejectionCount: 0, ejectedUntil: nil))

        detector.update(settings: nil, endpoints: [a, b])
        XCTAssertFalse(detector.isEjected(a, now: t0))
        detector.update(settings: OutlierDetectionSettings(), endpoints: [a, b])
        XCTAssertFalse(detector.isEjected(a, now: t0), "turning detection off forgot the ejection")
    }

    func testSnapshot() {
        var detector = detector(OutlierDetectionSettings(consecutiveGatewayErrors: 4))
        fail(&detector, a, 2, status: 500)
        fail(&detector, a, 2, status: 502)
        fail(&detector, b)
        let snapshot = detector.snapshot(now: t0)
        XCTAssertEqual(snapshot.count, 10)
        XCTAssertEqual(snapshot[0], .init(endpoint: a, consecutive5xx: 4, consecutiveGatewayErrors: 2, ejectionCount: 0, ejectedUntil: nil))
        XCTAssertEqual(snapshot[1], .init(endpoint: b, consecutive5xx: 0, consecutiveGatewayErrors: 0, ejectionCount: 1, ejectedUntil: at(s: 30)))
        XCTAssertNil(detector.snapshot(now: at(s: 30))[1].ejectedUntil)
    }
}
