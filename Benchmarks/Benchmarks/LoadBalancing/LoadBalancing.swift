// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
//
// Load balancing and the per-request cluster bookkeeping of the waypoint (WeftCluster), over a cluster of 100
// endpoints: `LoadBalancer.choose` for each policy, building the consistent-hash tables (what a DestinationRule
// or endpoint change costs), `OutlierDetector.record`, `TokenBucket.take` and `XXHash64.hash`.
//
// The per-request operations run 1 000 times per iteration (`scalingFactor: .kilo`; rows marked `*` are per
// operation) and each iteration starts from the same state, so its results are deterministic: the iteration's
// sum of chosen indices, tally of outlier events, admitted count or XOR of hashes is checked against the value
// computed in setup, where each policy's behaviour is also checked (round robin visits every endpoint equally,
// least request prefers the less loaded, consistent hashing agrees with a standalone ring or Maglev table). The
// consistent-hash choices cycle through 1 024 precomputed request hashes. Randomness comes from a seeded
// SplitMix64 (the waypoint draws from the system generator). Every endpoint is available.

import Benchmark
import BenchmarkSupport
import WeftCluster
import WeftRoute

let benchmarks: @Sendable () -> Void = {
    let perOperation = Benchmark.Configuration.weft(
        timeUnits: .nanoseconds, warmupIterations: 10, scalingFactor: .kilo, maxDuration: .seconds(2),
        maxIterations: 10_000)

    // MARK: Choosing an endpoint

    for policy in BalancerPolicy.allCases {
        Benchmark(
            "LoadBalancer.choose \(policy.title), \(Cluster.endpointCount) endpoints", configuration: perOperation
        ) { benchmark, fixture in
            var balancer = fixture.balancer
            var generator = SplitMix64(seed: 7)
            let hashes = fixture.hashes
            let mask = hashes.count - 1
            var sum = 0
            let cpu = CPUStopwatch()
            for operation in benchmark.scaledIterations {
                let hash = hashes[operation & mask]
                let index = balancer.choose(hash: hash, isAvailable: { _ in true }, using: &generator)
                sum &+= index ?? -1_000_000
            }
            cpu.record(in: benchmark)
            guard sum == fixture.expectedSum else {
                benchmark.error("the choices summed to \(sum), expected \(fixture.expectedSum)")
                return
            }
            blackHole(balancer)
        } setup: {
            try BalancerFixture(policy)
        }
    }

    // MARK: Building the consistent-hash tables

    for ringSize in [1024, 65536] {
        Benchmark(
            "RingHashTable.init \(Cluster.endpointCount) endpoints, minimumRingSize \(ringSize)",
            configuration: ringSize <= 1024
                ? .weft(timeUnits: .microseconds, warmupIterations: 5, maxDuration: .seconds(3), maxIterations: 2_000)
                : .weft(timeUnits: .milliseconds, maxDuration: .seconds(5), maxIterations: 100)
        ) { benchmark, endpoints in
            let cpu = CPUStopwatch()
            let ring = RingHashTable(endpoints: endpoints, minimumRingSize: ringSize)
            cpu.record(in: benchmark)
            benchmark.stopMeasurement()
            guard ring.pointCount == TableCheck.ringPoints(minimumRingSize: ringSize) else {
                benchmark.error("the ring has \(ring.pointCount) points")
                return
            }
            blackHole(ring)
        } setup: {
            Cluster.endpoints
        }
    }

    Benchmark(
        "MaglevTable.init \(Cluster.endpointCount) endpoints, 65537 slots",
        configuration: .weft(timeUnits: .microseconds, maxDuration: .seconds(4), maxIterations: 1_000)
    ) { benchmark, endpoints in
        let cpu = CPUStopwatch()
        let table = MaglevTable(endpoints: endpoints, tableSize: 65537)
        cpu.record(in: benchmark)
        benchmark.stopMeasurement()
        guard table.tableSize == 65537, table.endpointIndex(forHash: 0) != nil else {
            benchmark.error("the table has \(table.tableSize) slots")
            return
        }
        blackHole(table)
    } setup: {
        try TableCheck.checkBalance(MaglevTable(endpoints: Cluster.endpoints, tableSize: 65537))
        return Cluster.endpoints
    }

    // MARK: Per-request bookkeeping

    Benchmark(
        "OutlierDetector.record \(Cluster.endpointCount) endpoints (200s, some 503s, one failing endpoint)",
        configuration: perOperation
    ) { benchmark, fixture in
        guard benchmark.scaledIterations.count == fixture.steps.count else {
            benchmark.error("\(fixture.steps.count) steps for \(benchmark.scaledIterations.count) operations")
            return
        }
        // A fresh detector per iteration (not measured), so every iteration sees the same results.
        var detector = OutlierDetector(settings: fixture.settings, endpoints: Cluster.endpoints)
        var tally = OutlierFixture.Tally()
        benchmark.startMeasurement()
        let cpu = CPUStopwatch()
        for operation in benchmark.scaledIterations {
            let step = fixture.steps[operation]
            tally.add(detector.record(endpoint: step.endpoint, result: step.result, now: step.now))
        }
        cpu.record(in: benchmark)
        guard tally == fixture.expected else {
            benchmark.error("\(tally), expected \(fixture.expected)")
            return
        }
        blackHole(detector)
    } setup: {
        try OutlierFixture()
    }

    Benchmark(
        "TokenBucket.take (100 000 requests/s against 50 000/s)", configuration: perOperation
    ) { benchmark, fixture in
        guard benchmark.scaledIterations.count == fixture.instants.count else {
            benchmark.error("\(fixture.instants.count) instants for \(benchmark.scaledIterations.count) operations")
            return
        }
        var bucket = fixture.bucket
        var admitted = 0
        let cpu = CPUStopwatch()
        for operation in benchmark.scaledIterations where bucket.take(now: fixture.instants[operation]) {
            admitted += 1
        }
        cpu.record(in: benchmark)
        guard admitted == fixture.expectedAdmitted else {
            benchmark.error("\(admitted) requests admitted, expected \(fixture.expectedAdmitted)")
            return
        }
        blackHole(bucket)
    } setup: {
        try TokenBucketFixture()
    }

    Benchmark("XXHash64.hash 32-byte key", configuration: perOperation) { benchmark, fixture in
        let keys = fixture.keys
        let mask = keys.count - 1
        var combined: UInt64 = 0
        let cpu = CPUStopwatch()
        for operation in benchmark.scaledIterations {
            combined ^= XXHash64.hash(keys[operation & mask])
        }
        cpu.record(in: benchmark)
        guard combined == fixture.expected else {
            benchmark.error("the hashes combined to \(combined), expected \(fixture.expected)")
            return
        }
    } setup: {
        try HashFixture()
    }
}
