// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import BenchmarkSupport
import WeftCluster
import WeftRoute

/// The generated cluster: 100 endpoints `10.1.0.1:8080` … `10.1.0.100:8080`, as the waypoint names them.
enum Cluster {
    static let endpointCount = 100
    static let endpoints = (0..<endpointCount).map { "10.1.\($0 / 250).\($0 % 250 + 1):8080" }

    /// Operations per benchmark iteration; must equal the configuration's scaling factor (`.kilo`).
    static let operations = 1_000

    /// 1 024 request hash keys (xxHash64 of distinct 32-character session ids), cycled through by the
    /// consistent-hash benchmarks so each choice looks up another place of the ring or table.
    static let requestHashes = sessionIDs(1_024).map { LoadBalancer.hash($0) }

    /// `count` distinct 32-character hexadecimal session ids (32 bytes of UTF-8), from a fixed seed.
    static func sessionIDs(_ count: Int) -> [String] {
        var generator = SplitMix64(seed: 0x5EED)
        return (0..<count).map { _ in hex(generator.next()) + hex(generator.next()) }
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Which `LoadBalancer` policy a choice benchmark exercises.
enum BalancerPolicy: CaseIterable {
    case roundRobin
    case leastRequest
    case ringHash
    case maglev

    var title: String {
        switch self {
        case .roundRobin: "ROUND_ROBIN"
        case .leastRequest: "LEAST_REQUEST"
        case .ringHash: "ring hash (1024 points)"
        case .maglev: "maglev (65537 slots)"
        }
    }

    var settings: LoadBalancerSettings {
        let key = LoadBalancerSettings.ConsistentHash.Key.httpHeaderName("x-session-id")
        switch self {
        case .roundRobin: return LoadBalancerSettings(simple: .roundRobin)
        case .leastRequest: return LoadBalancerSettings(simple: .leastRequest)
        case .ringHash:
            return LoadBalancerSettings(consistentHash: .init(key: key, algorithm: .ringHash(minimumRingSize: 1024)))
        case .maglev:
            return LoadBalancerSettings(consistentHash: .init(key: key, algorithm: .maglev(tableSize: 65537)))
        }
    }
}

/// A balancer over ``Cluster/endpoints`` and the reference result of one iteration of choices.
struct BalancerFixture: Sendable {
    let balancer: LoadBalancer
    let hashes: [UInt64]
    /// The sum of the endpoint indices one iteration chooses (iterations are deterministic: each starts from this
    /// balancer with a generator of the same seed).
    let expectedSum: Int

    init(_ policy: BalancerPolicy) throws {
        var balancer = LoadBalancer(settings: policy.settings, endpoints: Cluster.endpoints)
        if policy == .leastRequest {
            // Uneven load: endpoint k has (7 k) mod 13 requests in flight.
            for index in Cluster.endpoints.indices {
                for _ in 0..<(7 * index % 13) { balancer.requestStarted(index) }
            }
        }
        self.balancer = balancer
        self.hashes = Cluster.requestHashes
        let chosen = Self.choices(balancer, hashes: hashes)
        guard chosen.count == Cluster.operations else {
            throw BenchmarkCheckFailed("\(policy.title) chose no endpoint after \(chosen.count) requests")
        }
        expectedSum = chosen.reduce(0, +)
        try Self.check(policy, balancer, chosen, hashes)
    }

    /// One iteration's choices, with the same generator seed as the benchmark.
    static func choices(_ balancer: LoadBalancer, hashes: [UInt64]) -> [Int] {
        var balancer = balancer
        var generator = SplitMix64(seed: 7)
        var chosen: [Int] = []
        for operation in 0..<Cluster.operations {
            let hash = hashes[operation & (hashes.count - 1)]
            guard let index = balancer.choose(hash: hash, isAvailable: { _ in true }, using: &generator) else { break }
            chosen.append(index)
        }
        return chosen
    }

    /// What each policy must do with these choices, so a fast balancer is not a wrong one.
    static func check(_ policy: BalancerPolicy, _ balancer: LoadBalancer, _ chosen: [Int], _ hashes: [UInt64]) throws {
        var counts = [Int](repeating: 0, count: Cluster.endpointCount)
        for index in chosen { counts[index] += 1 }
        switch policy {
        case .roundRobin:
            guard counts.allSatisfy({ $0 == Cluster.operations / Cluster.endpointCount }) else {
                throw BenchmarkCheckFailed("round robin chose endpoints \(counts.min()!)–\(counts.max()!) times each")
            }
        case .leastRequest:
            // Two random choices, the less loaded one: the mean load chosen is well below the mean load.
            let load = balancer.activeRequests
            let chosenMean = Double(chosen.map { load[$0] }.reduce(0, +)) / Double(chosen.count)
            let mean = Double(load.reduce(0, +)) / Double(load.count)
            guard chosenMean < mean * 0.8 else {
                throw BenchmarkCheckFailed("least request chose a mean load of \(chosenMean), the mean is \(mean)")
            }
        case .ringHash, .maglev:
            let ring = RingHashTable(endpoints: Cluster.endpoints, minimumRingSize: 1024)
            let maglev = MaglevTable(endpoints: Cluster.endpoints, tableSize: 65537)
            for (operation, index) in chosen.enumerated() {
                let hash = hashes[operation & (hashes.count - 1)]
                let owner =
                    policy == .ringHash ? ring.endpointIndex(forHash: hash) : maglev.endpointIndex(forHash: hash)
                guard owner == index else {
                    throw BenchmarkCheckFailed(
                        "\(policy.title): hash \(hash) went to \(index), its owner is \(owner ?? -1)")
                }
            }
            let used = counts.filter { $0 > 0 }.count
            guard used >= 90 else {
                throw BenchmarkCheckFailed("\(policy.title) spread 1 000 keys over \(used) endpoints")
            }
        }
    }
}
