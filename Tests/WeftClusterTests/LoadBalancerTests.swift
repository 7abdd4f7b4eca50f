// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftCluster
import WeftRoute
import XCTest

final class LoadBalancerTests: XCTestCase {
    let all: (Int) -> Bool = { _ in true }

    func testPolicyResolution() {
        XCTAssertEqual(LoadBalancer.policy(for: nil), .roundRobin)
        XCTAssertEqual(LoadBalancer.policy(for: .init(simple: .unspecified)), .roundRobin)
        XCTAssertEqual(LoadBalancer.policy(for: .init()), .roundRobin)
        XCTAssertEqual(LoadBalancer.policy(for: .init(simple: .roundRobin)), .roundRobin)
        XCTAssertEqual(LoadBalancer.policy(for: .init(simple: .random)), .random)
        XCTAssertEqual(LoadBalancer.policy(for: .init(simple: .leastConn)), .leastRequest)
        XCTAssertEqual(LoadBalancer.policy(for: .init(simple: .leastRequest)), .leastRequest)
        XCTAssertEqual(LoadBalancer.policy(for: .init(simple: .passthrough)), .passthrough)
        XCTAssertEqual(
            LoadBalancer.policy(for: .init(consistentHash: .init(key: .useSourceIp))), .ringHash(minimumRingSize: 1024))
        XCTAssertEqual(
            LoadBalancer.policy(
                for: .init(simple: .random, consistentHash: .init(key: .useSourceIp, algorithm: .maglev(tableSize: 65536)))),
            .maglev(tableSize: 65537), "consistentHash wins over simple; the table size is raised to a prime")
        XCTAssertEqual(
            LoadBalancer.policy(for: .init(consistentHash: .init(key: .useSourceIp, algorithm: .ringHash(minimumRingSize: 0)))),
            .ringHash(minimumRingSize: 1024))
    }

    func testRoundRobinVisitsEveryEndpointInOrder() {
        var generator = SeededGenerator(seed: 1)
        var balancer = LoadBalancer(settings: nil, endpoints: endpointList(4))
        let picks = (0..<12).compactMap { _ in balancer.choose(hash: nil, isAvailable: all, using: &generator) }
        XCTAssertEqual(picks.count, 12)
        for (previous, next) in zip(picks, picks.dropFirst()) {
            XCTAssertEqual(next, (previous + 1) % 4, "\(picks)")
        }
        XCTAssertEqual(Dictionary(grouping: picks, by: { $0 }).mapValues(\.count), [0: 3, 1: 3, 2: 3, 3: 3])
    }

    func testRoundRobinStartsAtARandomEndpoint() {
        var starts = Set<Int>()
        for seed in 0..<40 {
            var generator = SeededGenerator(seed: UInt64(seed))
            var balancer = LoadBalancer(settings: .init(simple: .roundRobin), endpoints: endpointList(4))
            starts.insert(balancer.choose(hash: nil, isAvailable: all, using: &generator)!)
        }
        XCTAssertEqual(starts, [0, 1, 2, 3])
    }

    func testRoundRobinSkipsUnavailableEndpoints() {
        var generator = SeededGenerator(seed: 2)
        var balancer = LoadBalancer(settings: nil, endpoints: endpointList(4))
        let picks = (0..<9).compactMap { _ in balancer.choose(hash: nil, isAvailable: { $0 != 1 }, using: &generator) }
        XCTAssertEqual(picks.count, 9)
        XCTAssertFalse(picks.contains(1))
        XCTAssertEqual(Dictionary(grouping: picks, by: { $0 }).mapValues(\.count), [0: 3, 2: 3, 3: 3])
        let order = [0, 2, 3]
        for (previous, next) in zip(picks, picks.dropFirst()) {
            XCTAssertEqual(next, order[(order.firstIndex(of: previous)! + 1) % 3], "\(picks)")
        }
        XCTAssertNil(balancer.choose(hash: nil, isAvailable: { _ in false }, using: &generator))
    }

    func testRandomIsUniformAmongAvailable() {
        var generator = SeededGenerator(seed: 3)
        var balancer = LoadBalancer(settings: .init(simple: .random), endpoints: endpointList(5))
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<50_000 {
            counts[balancer.choose(hash: nil, isAvailable: all, using: &generator)!] += 1
        }
        // 4 degrees of freedom: 18.5 is the 0.1 % critical value.
        XCTAssertLessThan(chiSquare(counts), 18.5, "\(counts)")

        var available = [Int](repeating: 0, count: 5)
        for _ in 0..<40_000 {
            available[balancer.choose(hash: nil, isAvailable: { $0 != 2 }, using: &generator)!] += 1
        }
        XCTAssertEqual(available[2], 0)
        available.remove(at: 2)
        XCTAssertLessThan(chiSquare(available), 16.3, "\(available)")  // 3 degrees of freedom, 0.1 %.
    }

    func testRandomIsUniformWhenFewAreAvailable() {
        // Most probes miss, so the exact counting pass does the work; it must stay uniform.
        var generator = SeededGenerator(seed: 4)
        var balancer = LoadBalancer(settings: .init(simple: .random), endpoints: endpointList(100))
        var counts: [Int: Int] = [:]
        for _ in 0..<30_000 {
            counts[balancer.choose(hash: nil, isAvailable: { $0 == 7 || $0 == 50 || $0 == 93 }, using: &generator)!, default: 0] += 1
        }
        XCTAssertEqual(Set(counts.keys), [7, 50, 93])
        XCTAssertLessThan(chiSquare(Array(counts.values)), 13.8, "\(counts)")  // 2 degrees of freedom, 0.1 %.
    }

    func testLeastRequestPicksTheLessLoadedOfTwo() {
        var generator = SeededGenerator(seed: 5)
        var balancer = LoadBalancer(settings: .init(simple: .leastRequest), endpoints: endpointList(2))
        for _ in 0..<10 { balancer.requestStarted(0) }
        for _ in 0..<1_000 {
            XCTAssertEqual(balancer.choose(hash: nil, isAvailable: all, using: &generator), 1)
        }
        // Only one available: it is taken whatever its load.
        XCTAssertEqual(balancer.choose(hash: nil, isAvailable: { $0 == 0 }, using: &generator), 0)
        XCTAssertNil(balancer.choose(hash: nil, isAvailable: { _ in false }, using: &generator))
    }

    func testLeastRequestNeverPicksTheMostLoadedOfDistinctPairs() {
        var generator = SeededGenerator(seed: 6)
        var balancer = LoadBalancer(settings: .init(simple: .leastConn), endpoints: endpointList(4))
        for _ in 0..<100 { balancer.requestStarted(0) }
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<12_000 {
            counts[balancer.choose(hash: nil, isAvailable: all, using: &generator)!] += 1
        }
        XCTAssertEqual(counts[0], 0, "every pair with endpoint 0 has a less loaded member: \(counts)")
        XCTAssertLessThan(chiSquare(Array(counts.dropFirst())), 16.3, "\(counts)")
    }

    func testLeastRequestSendsLessToASlowEndpoint() {
        var generator = SeededGenerator(seed: 7)
        var balancer = LoadBalancer(settings: .init(simple: .leastRequest), endpoints: endpointList(4))
        var counts = [Int](repeating: 0, count: 4)
        // (endpoint, step at which its response completes): endpoint 0 takes 200 steps, the others 3.
        var inFlight: [(endpoint: Int, finishesAt: Int)] = []
        for step in 0..<4_000 {
            for request in inFlight where request.finishesAt <= step {
                balancer.requestFinished(request.endpoint)
            }
            inFlight.removeAll { $0.finishesAt <= step }
            let index = balancer.choose(hash: nil, isAvailable: all, using: &generator)!
            counts[index] += 1
            balancer.requestStarted(index)
            inFlight.append((index, step + (index == 0 ? 200 : 3)))
        }
        XCTAssertLessThan(counts[0], 4_000 / 20, "the slow endpoint gets a small fraction of its share: \(counts)")
        XCTAssertGreaterThan(counts[1], 1_000)
    }

    func testActiveRequestCountsNeverGoNegative() {
        var balancer = LoadBalancer(settings: .init(simple: .leastRequest), endpoints: endpointList(2))
        balancer.requestFinished(0)
        balancer.requestStarted(1)
        balancer.requestFinished(1)
        balancer.requestFinished(1)
        balancer.requestStarted(7)
        balancer.requestFinished(-1)
        XCTAssertEqual(balancer.activeRequests, [0, 0])
    }

    func testPassthroughChoosesNothing() {
        var generator = SeededGenerator(seed: 8)
        var balancer = LoadBalancer(settings: .init(simple: .passthrough), endpoints: endpointList(3))
        XCTAssertTrue(balancer.isPassthrough)
        XCTAssertNil(balancer.choose(hash: 42, isAvailable: all, using: &generator))
        XCTAssertFalse(LoadBalancer(settings: nil, endpoints: []).isPassthrough)
    }

    func testNoEndpointsChoosesNothing() {
        var generator = SeededGenerator(seed: 9)
        for settings: LoadBalancerSettings? in [nil, .init(simple: .random), .init(simple: .leastRequest)] {
            var balancer = LoadBalancer(settings: settings, endpoints: [])
            XCTAssertNil(balancer.choose(hash: nil, isAvailable: all, using: &generator))
        }
    }

    func testUpdateKeepsActiveCountsByIdentity() {
        var generator = SeededGenerator(seed: 10)
        var balancer = LoadBalancer(settings: .init(simple: .leastRequest), endpoints: ["a", "b", "c"])
        for _ in 0..<3 { balancer.requestStarted(1) }
        balancer.requestStarted(0)
        balancer.update(endpoints: ["c", "b", "d"], settings: .init(simple: .roundRobin))
        XCTAssertEqual(balancer.endpoints, ["c", "b", "d"])
        XCTAssertEqual(balancer.activeRequests, [0, 3, 0])
        XCTAssertEqual(balancer.policy, .roundRobin)
        XCTAssertEqual(balancer.index(of: "b"), 1)
        let picks = (0..<6).compactMap { _ in balancer.choose(hash: nil, isAvailable: all, using: &generator) }
        XCTAssertEqual(Set(picks), [0, 1, 2])
        balancer.update(endpoints: [], settings: nil)
        XCTAssertNil(balancer.choose(hash: nil, isAvailable: all, using: &generator))
    }
}
