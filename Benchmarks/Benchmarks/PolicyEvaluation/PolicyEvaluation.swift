// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
//
// Policy evaluation: authorizing one connection at the node (`PolicySet.evaluate`, L4) and one HTTP request at a
// waypoint (`WaypointPolicySet.evaluate`, L7), each against 10 000 AuthorizationPolicies, and compiling those
// 10 000 policies (what every configuration reload costs). The policies are generated and compiled in setup
// (`NodePolicies`, `WaypointPolicies`), where each scenario's exact decision and the set of policies the index
// visits are checked. Each evaluation benchmark iteration authorizes the same connection (request) 1 000 times
// (`scalingFactor: .kilo`), so the rows marked `*` are per decision; the facts are built in setup, as the node
// builds them once per connection.

import Benchmark
import BenchmarkSupport
import WeftModel
import WeftPolicy

let benchmarks: @Sendable () -> Void = {
    let evaluation = Benchmark.Configuration.weft(
        timeUnits: .nanoseconds, warmupIterations: 5, scalingFactor: .kilo, maxDuration: .seconds(3),
        maxIterations: 2_000)
    let compilation = Benchmark.Configuration.weft(
        timeUnits: .milliseconds, maxDuration: .seconds(8), maxIterations: 40)

    // MARK: Node (L4)

    Benchmark(
        "PolicySet.init \(NodePolicies.count) policies (compile and index)", configuration: compilation
    ) { benchmark, policies in
        let cpu = CPUStopwatch()
        let set = PolicySet(policies, rootNamespace: NodePolicies.rootNamespace)
        cpu.record(in: benchmark)
        // Releasing the 10 000 compiled policies is not part of compiling them.
        benchmark.stopMeasurement()
        guard set.count == policies.count else {
            benchmark.error("PolicySet compiled \(set.count) of \(policies.count) policies")
            return
        }
        blackHole(set)
    } setup: {
        NodePolicies.make()
    }

    for scenario in NodeScenario.allCases {
        Benchmark(
            "PolicySet.evaluate \(NodePolicies.count) policies, \(scenario.title)", configuration: evaluation
        ) { benchmark, fixture in
            let cpu = CPUStopwatch()
            for _ in benchmark.scaledIterations {
                let decision = fixture.set.evaluate(fixture.facts)
                guard decision.verdict == fixture.expected.verdict else {
                    benchmark.error("expected \(fixture.expected), got \(decision)")
                    return
                }
                blackHole(decision)
            }
            cpu.record(in: benchmark)
        } setup: {
            try NodeFixture(scenario)
        }
    }

    // MARK: Waypoint (L7)

    Benchmark(
        "WaypointPolicySet.init \(WaypointPolicies.count) policies (compile and index)", configuration: compilation
    ) { benchmark, policies in
        let cpu = CPUStopwatch()
        let set = WaypointPolicySet.make(policies)
        cpu.record(in: benchmark)
        benchmark.stopMeasurement()
        guard set.count == policies.count else {
            benchmark.error("WaypointPolicySet bound \(set.count) of \(policies.count) policies")
            return
        }
        blackHole(set)
    } setup: {
        WaypointPolicies.make()
    }

    for scenario in WaypointScenario.allCases {
        Benchmark(
            "WaypointPolicySet.evaluate \(WaypointPolicies.count) policies, \(scenario.title)",
            configuration: evaluation
        ) { benchmark, fixture in
            let cpu = CPUStopwatch()
            for _ in benchmark.scaledIterations {
                let decision = fixture.set.evaluate(fixture.facts)
                guard decision.verdict == fixture.expected.verdict else {
                    benchmark.error("expected \(fixture.expected), got \(decision)")
                    return
                }
                blackHole(decision)
            }
            cpu.record(in: benchmark)
        } setup: {
            try WaypointFixture(scenario)
        }
    }
}
