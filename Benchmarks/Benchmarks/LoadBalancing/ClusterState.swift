// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import BenchmarkSupport
import WeftCluster
import WeftRoute

/// 1 000 request results for ``OutlierDetector/record(endpoint:result:now:)``, one every microsecond, over the
/// 100 endpoints in turn (10 rounds): endpoint 7 fails every connection (ejected at its fifth failure, its
/// later results ignored), endpoints 3, 13, … answer 503 in rounds 0, 3, 6 and 9, the others 200.
struct OutlierFixture: Sendable {
    struct Step: Sendable {
        var endpoint: String
        var result: OutlierDetector.Result
        var now: ContinuousClock.Instant
    }

    /// How many results of an iteration had each outcome.
    struct Tally: Hashable, Sendable, CustomStringConvertible {
        var counted = 0
        var ejected = 0
        var overflow = 0
        var ignored = 0

        mutating func add(_ event: OutlierDetector.Event) {
            switch event {
            case .counted: counted += 1
            case .ejected: ejected += 1
            case .overflow: overflow += 1
            case .ignored: ignored += 1
            }
        }

        var description: String { "\(counted) counted, \(ejected) ejected, \(overflow) overflow, \(ignored) ignored" }
    }

    /// Istio's defaults: 5 consecutive 5xx eject for 30 s, at most 10 % of the endpoints.
    let settings = OutlierDetectionSettings()
    let steps: [Step]
    let expected: Tally

    init() throws {
        let start = ContinuousClock.now
        steps = (0..<Cluster.operations).map { i in
            let (endpoint, round) = (i % Cluster.endpointCount, i / Cluster.endpointCount)
            let result: OutlierDetector.Result =
                if endpoint == 7 {
                    .localFailure
                } else if endpoint % 10 == 3 && round % 3 == 0 {
                    .response(status: 503)
                } else {
                    .response(status: 200)
                }
            return Step(endpoint: Cluster.endpoints[endpoint], result: result, now: start + .microseconds(i))
        }
        var detector = OutlierDetector(settings: settings, endpoints: Cluster.endpoints)
        var tally = Tally()
        for step in steps { tally.add(detector.record(endpoint: step.endpoint, result: step.result, now: step.now)) }
        // Endpoint 7 alone is ejected, at its fifth failure; its five later results are not counted.
        guard tally == Tally(counted: Cluster.operations - 6, ejected: 1, overflow: 0, ignored: 5),
            detector.isEjected(Cluster.endpoints[7], now: steps.last!.now),
            detector.ejectedCount(now: steps.last!.now) == 1
        else {
            throw BenchmarkCheckFailed("outlier detection of the generated results: \(tally)")
        }
        expected = tally
    }
}

/// 1 000 requests 10 µs apart (100 000 requests per second) against a bucket of 100 tokens refilled at 50 000
/// per second: after the burst, about one request in two is admitted.
struct TokenBucketFixture: Sendable {
    let bucket: TokenBucket
    let instants: [ContinuousClock.Instant]
    /// Requests admitted in one iteration (each iteration starts from the full bucket).
    let expectedAdmitted: Int

    init() throws {
        let start = ContinuousClock.now
        bucket = TokenBucket(capacity: 100, tokensPerInterval: 50_000, interval: .seconds(1), now: start)
        instants = (1...Cluster.operations).map { start + .microseconds(10 * $0) }
        var copy = bucket
        expectedAdmitted = instants.filter { copy.take(now: $0) }.count
        // 100 tokens of burst + 10 ms × 50 000/s, give or take the last partial token.
        guard (599...601).contains(expectedAdmitted) else {
            throw BenchmarkCheckFailed("the bucket admitted \(expectedAdmitted) of \(instants.count) requests")
        }
    }
}

/// 1 024 distinct 32-byte keys (hexadecimal session ids) for ``XXHash64/hash(_:seed:)``.
struct HashFixture: Sendable {
    let keys = Cluster.sessionIDs(1_024)
    /// The XOR of the hashes of the first 1 000 keys (one iteration).
    let expected: UInt64

    init() throws {
        // A published XXH64 test vector longer than 32 bytes, so the four-lane loop the keys take is the real one.
        guard XXHash64.hash("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1 else {
            throw BenchmarkCheckFailed("XXHash64 disagrees with the reference XXH64 test vector")
        }
        guard keys.allSatisfy({ $0.utf8.count == 32 }), Set(keys).count == keys.count else {
            throw BenchmarkCheckFailed("the generated keys are not 1 024 distinct 32-byte strings")
        }
        expected = keys.prefix(Cluster.operations).reduce(0) { $0 ^ XXHash64.hash($1) }
    }
}

/// What building a consistent-hash table must produce.
enum TableCheck {
    /// The points a ring of `minimumRingSize` gets over ``Cluster/endpoints``: the same number per endpoint.
    static func ringPoints(minimumRingSize: Int) -> Int {
        let perEndpoint = (minimumRingSize + Cluster.endpointCount - 1) / Cluster.endpointCount
        return perEndpoint * Cluster.endpointCount
    }

    /// Checks that a Maglev table gives every endpoint M / n slots to within one.
    static func checkBalance(_ table: MaglevTable) throws {
        var owned = [Int](repeating: 0, count: Cluster.endpointCount)
        for slot in 0..<table.tableSize {
            guard let owner = table.endpointIndex(forHash: UInt64(slot)) else {
                throw BenchmarkCheckFailed("Maglev slot \(slot) has no owner")
            }
            owned[owner] += 1
        }
        guard owned.max()! - owned.min()! <= 1 else {
            throw BenchmarkCheckFailed("Maglev endpoints own \(owned.min()!)–\(owned.max()!) slots each")
        }
    }
}
