// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
//
// Route matching at the waypoint: `RouteTable.match` (Gateway API HTTPRoutes: entries sorted once by precedence,
// first match wins) over 1 000 rules, and `VirtualServiceTable.match` (Istio: first match in list order) over a
// VirtualService of 1 000 `http` rules. The rules and the tables are built in setup, where every rule is checked to
// be selected by a request written for it and each scenario's answer is checked. Each iteration routes the same
// request 1 000 times (`scalingFactor: .kilo`; rows marked `*` are per request) with a seeded SplitMix64 for the
// weighted backend draw (the waypoint draws from the system generator).

import Benchmark
import BenchmarkSupport
import WeftRoute

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration.weft(
        timeUnits: .nanoseconds, warmupIterations: 3, scalingFactor: .kilo, maxDuration: .seconds(4),
        maxIterations: 2_000)
    // A VirtualService request takes ~0.3 ms, so 1 000 of them 0.3 s: a longer run for a few dozen samples.
    let virtualServiceConfiguration = Benchmark.Configuration.weft(
        timeUnits: .nanoseconds, warmupIterations: 2, scalingFactor: .kilo, maxDuration: .seconds(10),
        maxIterations: 2_000)

    for scenario in RouteScenario.allCases {
        Benchmark(
            "RouteTable.match \(RuleKind.ruleCount) rules, \(scenario.title)", configuration: configuration
        ) { benchmark, fixture in
            var generator = SplitMix64(seed: 1)
            let cpu = CPUStopwatch()
            for _ in benchmark.scaledIterations {
                let selection = fixture.table.match(fixture.request, using: &generator)
                guard selection?.ruleIndex == fixture.expectedRuleIndex else {
                    benchmark.error("selected \(selection.map { "\($0.match)" } ?? "404")")
                    return
                }
                blackHole(selection)
            }
            cpu.record(in: benchmark)
        } setup: {
            try RouteFixture(scenario)
        }
    }

    for scenario in VirtualServiceScenario.allCases {
        Benchmark(
            "VirtualServiceTable.match \(RuleKind.ruleCount) rules, \(scenario.title)",
            configuration: virtualServiceConfiguration
        ) { benchmark, fixture in
            var generator = SplitMix64(seed: 1)
            let cpu = CPUStopwatch()
            for _ in benchmark.scaledIterations {
                let selection = fixture.table.match(fixture.request, using: &generator)
                guard selection?.ruleIndex == fixture.expectedRule else {
                    benchmark.error("selected rule \(selection.map { "\($0.ruleIndex)" } ?? "404")")
                    return
                }
                blackHole(selection)
            }
            cpu.record(in: benchmark)
        } setup: {
            try VirtualServiceFixture(scenario)
        }
    }
}
