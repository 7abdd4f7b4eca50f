// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// DestinationRule policy merging: top level, port level, subset, subset port level.
@Suite("DestinationRule merging")
struct DestinationRuleTests {
    static let roundRobin = LoadBalancerSettings(simple: .roundRobin)
    static let random = LoadBalancerSettings(simple: .random)
    static let leastRequest = LoadBalancerSettings(simple: .leastRequest)
    static let hashed = LoadBalancerSettings(consistentHash: .init(key: .httpHeaderName("x-user"), algorithm: .maglev(tableSize: 65537)))
    static let pool = ConnectionPoolSettings(maxConnections: 10)
    static let subsetPool = ConnectionPoolSettings(http2MaxRequests: 5)
    static let outlier = OutlierDetectionSettings(consecutive5xxErrors: 3, interval: .seconds(5))

    static let rule = DestinationRuleSpec(
        namespace: "shop", name: "reviews", host: "reviews",
        trafficPolicy: TrafficPolicy(
            settings: .init(loadBalancer: roundRobin, connectionPool: pool, outlierDetection: outlier),
            portLevelSettings: [.init(port: 9080, settings: .init(loadBalancer: random))]),
        subsets: [
            .init(name: "v1", labels: ["version": "v1"]),
            .init(
                name: "v2", labels: ["version": "v2"],
                trafficPolicy: TrafficPolicy(
                    settings: .init(connectionPool: subsetPool),
                    portLevelSettings: [.init(port: 9081, settings: .init(loadBalancer: hashed))])),
            .init(name: "v3", trafficPolicy: TrafficPolicy(settings: .init(loadBalancer: leastRequest))),
        ])

    struct Case: Sendable, CustomTestStringConvertible {
        var subset: String?
        var port: UInt16?
        var expected: TrafficPolicy.Settings
        var testDescription: String { "subset \(subset ?? "-") port \(port.map(String.init) ?? "-")" }
    }

    static let cases: [Case] = [
        .init(subset: nil, port: nil, expected: .init(loadBalancer: roundRobin, connectionPool: pool, outlierDetection: outlier)),
        .init(subset: nil, port: 9080, expected: .init(loadBalancer: random, connectionPool: pool, outlierDetection: outlier)),
        .init(subset: "v1", port: nil, expected: .init(loadBalancer: roundRobin, connectionPool: pool, outlierDetection: outlier)),
        .init(subset: "v1", port: 9080, expected: .init(loadBalancer: random, connectionPool: pool, outlierDetection: outlier)),
        .init(subset: "v2", port: 9080, expected: .init(loadBalancer: random, connectionPool: subsetPool, outlierDetection: outlier)),
        .init(subset: "v2", port: 9081, expected: .init(loadBalancer: hashed, connectionPool: subsetPool, outlierDetection: outlier)),
        .init(subset: "v3", port: 9080, expected: .init(loadBalancer: leastRequest, connectionPool: pool, outlierDetection: outlier)),
        .init(subset: "nope", port: nil, expected: .init(loadBalancer: roundRobin, connectionPool: pool, outlierDetection: outlier)),
    ]

    @Test("effective policy", arguments: cases)
    func effective(_ test: Case) {
        #expect(Self.rule.effectivePolicy(subset: test.subset, port: test.port) == test.expected)
    }

    @Test("short host resolves in the rule's namespace; Istio's default thresholds")
    func hostAndDefaults() {
        #expect(Self.rule.resolvedHost == "reviews.shop.svc.cluster.local")
        #expect(Self.pool.effectiveMaxConnections == 10)
        #expect(Self.pool.effectiveMaxRetries == 4_294_967_295)
        #expect(DestinationRuleSpec(namespace: "a", name: "b", host: "x").effectivePolicy() == .init())
    }
}
