// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

@testable import WeftCluster
import WeftRoute
import XCTest

final class ConsistentHashTests: XCTestCase {
    static let ring = LoadBalancerSettings(consistentHash: .init(key: .httpHeaderName("x-user"), algorithm: .ringHash(minimumRingSize: 1024)))
    static let maglev = LoadBalancerSettings(consistentHash: .init(key: .httpHeaderName("x-user"), algorithm: .maglev(tableSize: 65537)))
    static let both: [(name: String, settings: LoadBalancerSettings)] = [("ring hash", ring), ("maglev", maglev)]

    let all: (Int) -> Bool = { _ in true }
    let keys = (0..<30_000).map { LoadBalancer.hash("user-\($0)") }

    /// Where every key goes.
    func placement(_ balancer: inout LoadBalancer, keys: [UInt64], isAvailable: (Int) -> Bool = { _ in true }) -> [Int?] {
        var generator = SeededGenerator(seed: 0)
        return keys.map { balancer.choose(hash: $0, isAvailable: isAvailable, using: &generator) }
    }

    func testSameKeySameEndpointOverManyCalls() {
        for (name, settings) in Self.both {
            var generator = SeededGenerator(seed: 1)
            var balancer = LoadBalancer(settings: settings, endpoints: endpointList(5))
            let hash = LoadBalancer.hash("alice")
            let first = balancer.choose(hash: hash, isAvailable: all, using: &generator)
            XCTAssertNotNil(first, name)
            for _ in 0..<10_000 {
                XCTAssertEqual(balancer.choose(hash: hash, isAvailable: all, using: &generator), first, name)
            }
            // A separately built balancer (another replica) agrees.
            var replica = LoadBalancer(settings: settings, endpoints: endpointList(5))
            XCTAssertEqual(replica.choose(hash: hash, isAvailable: all, using: &generator), first, name)
        }
    }

    func testKeysSpreadAcrossEndpoints() {
        for (name, settings) in Self.both {
            var balancer = LoadBalancer(settings: settings, endpoints: endpointList(3))
            var counts = [0, 0, 0]
            for index in placement(&balancer, keys: keys) { counts[index!] += 1 }
            for count in counts {
                let share = Double(count) / Double(keys.count)
                XCTAssertTrue((0.25...0.42).contains(share), "\(name): \(counts)")
            }
        }
    }

    func testRemovingOneEndpointMovesRoughlyItsShare() {
        // Maglev moves little more than the removed endpoint's share. A ring moves more: as in Envoy, the
        // points per endpoint are recomputed from the new count (1024 / 4 = 256 → ceil(1024 / 3) = 342), so
        // the survivors' new points also catch some keys (about 36 % in all here).
        for (name, settings, limit) in [("ring hash", Self.ring, 0.40), ("maglev", Self.maglev, 0.30)] {
            let four = endpointList(4)
            var balancer = LoadBalancer(settings: settings, endpoints: four)
            let before = placement(&balancer, keys: keys).map { four[$0!] }
            var three = four
            three.remove(at: 2)
            balancer.update(endpoints: three, settings: settings)
            let after = placement(&balancer, keys: keys).map { three[$0!] }
            let moved = zip(before, after).filter { $0 != $1 }.count
            let movedShare = Double(moved) / Double(keys.count)
            let removedShare = Double(before.filter { $0 == four[2] }.count) / Double(keys.count)
            XCTAssertGreaterThanOrEqual(movedShare, removedShare, name)
            XCTAssertLessThanOrEqual(movedShare, limit, "\(name): moved \(movedShare), removed endpoint had \(removedShare)")
            XCTAssertFalse(after.contains(four[2]), name)
        }
    }

    func testUnavailableEndpointIsNeverChosenAndOtherKeysStay() {
        for (name, settings) in Self.both {
            var balancer = LoadBalancer(settings: settings, endpoints: endpointList(4))
            let sample = Array(keys.prefix(10_000))
            let before = placement(&balancer, keys: sample)
            let during = placement(&balancer, keys: sample, isAvailable: { $0 != 1 })
            XCTAssertFalse(during.contains(1), name)
            for (old, new) in zip(before, during) where old != 1 {
                XCTAssertEqual(old, new, "\(name): keys on available endpoints do not move")
            }
            let displaced = zip(before, during).filter { $0.0 == 1 }.map(\.1)
            XCTAssertEqual(Set(displaced), [0, 2, 3], "\(name): the unavailable endpoint's keys spread over the rest")
            // Stable while the availability set is unchanged, and the fallback table is cached for it.
            XCTAssertEqual(placement(&balancer, keys: sample, isAvailable: { $0 != 1 }), during, name)
            XCTAssertEqual(balancer.fallback?.members, [0, 2, 3], name)
            // When the endpoint returns, its keys return to it.
            XCTAssertEqual(placement(&balancer, keys: sample), before, name)
        }
    }

    func testOnlyOneOrNoneAvailable() {
        for (name, settings) in Self.both {
            var balancer = LoadBalancer(settings: settings, endpoints: endpointList(4))
            XCTAssertEqual(Set(placement(&balancer, keys: Array(keys.prefix(500)), isAvailable: { $0 == 3 })), [3], name)
            XCTAssertEqual(Set(placement(&balancer, keys: Array(keys.prefix(50)), isAvailable: { _ in false })), [nil], name)
        }
    }

    func testMissingHashFallsBackToRandomAmongAvailable() {
        var generator = SeededGenerator(seed: 2)
        var balancer = LoadBalancer(settings: Self.maglev, endpoints: endpointList(4))
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<20_000 {
            counts[balancer.choose(hash: nil, isAvailable: { $0 != 0 }, using: &generator)!] += 1
        }
        XCTAssertEqual(counts[0], 0)
        XCTAssertLessThan(chiSquare(Array(counts.dropFirst())), 13.8, "\(counts)")
    }

    func testMaglevSlotsAreBalancedToWithinOne() {
        let table = MaglevTable(endpoints: endpointList(7), tableSize: 65537)
        var counts = [Int](repeating: 0, count: 7)
        for slot in 0..<UInt64(table.tableSize) { counts[table.endpointIndex(forHash: slot)!] += 1 }
        XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "\(counts)")
        XCTAssertEqual(counts.reduce(0, +), 65537)
    }

    func testMaglevTableSizeIsPrime() {
        XCTAssertEqual(MaglevTable.resolvedTableSize(65537), 65537)
        XCTAssertEqual(MaglevTable.resolvedTableSize(65536), 65537)
        XCTAssertEqual(MaglevTable.resolvedTableSize(100), 101)
        XCTAssertEqual(MaglevTable.resolvedTableSize(1), 2)
        XCTAssertEqual(MaglevTable.resolvedTableSize(0), 65537)
        XCTAssertEqual(MaglevTable.resolvedTableSize(-5), 65537)
        XCTAssertEqual(MaglevTable.resolvedTableSize(Int.max), 5_000_011)
        XCTAssertTrue(MaglevTable.isPrime(5_000_011))
        XCTAssertTrue(MaglevTable.isPrime(65537))
        XCTAssertFalse(MaglevTable.isPrime(65535))
        XCTAssertFalse(MaglevTable.isPrime(1))
        XCTAssertEqual(MaglevTable(endpoints: ["a"], tableSize: 10).tableSize, 11)
        XCTAssertNil(MaglevTable(endpoints: [], tableSize: 11).endpointIndex(forHash: 3))
    }

    func testRingPointsAndLookup() {
        XCTAssertEqual(RingHashTable(endpoints: endpointList(3)).pointCount, 3 * 342)
        XCTAssertEqual(RingHashTable(endpoints: endpointList(4)).pointCount, 1024)
        XCTAssertEqual(RingHashTable(endpoints: endpointList(2000)).pointCount, 2000, "at least one point each")
        XCTAssertEqual(RingHashTable.resolvedRingSize(10_000_000), RingHashTable.maximumRingSize)
        XCTAssertEqual(RingHashTable.resolvedRingSize(0), 1024)
        XCTAssertNil(RingHashTable(endpoints: []).endpointIndex(forHash: 1))

        // One point each: a hash goes to the first point at or after it, wrapping around.
        let ring = RingHashTable(endpoints: ["a", "b"], minimumRingSize: 2)
        XCTAssertEqual(ring.pointCount, 2)
        let a = XXHash64.hash("a_0")
        let b = XXHash64.hash("b_0")
        let (low, high) = a < b ? (0, 1) : (1, 0)
        XCTAssertEqual(ring.endpointIndex(forHash: min(a, b)), low)
        XCTAssertEqual(ring.endpointIndex(forHash: min(a, b) &+ 1), high)
        XCTAssertEqual(ring.endpointIndex(forHash: max(a, b)), high)
        XCTAssertEqual(ring.endpointIndex(forHash: max(a, b) &+ 1), low, "wraps to the first point")
        XCTAssertEqual(ring.endpointIndex(forHash: 0), low)
    }
}
