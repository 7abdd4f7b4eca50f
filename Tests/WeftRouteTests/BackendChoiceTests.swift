// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// Weighted backend choice, zero weights, and invalid backends answering 500 for their share only.
@Suite("Backend choice")
struct BackendChoiceTests {
    static func weightedRule(_ weights: [(String, Int)]) -> HTTPRouteRule {
        HTTPRouteRule(backendRefs: weights.map { HTTPBackendRef(service: $0.0, port: 9080, weight: $0.1) })
    }

    /// How often each outcome appears over `draws` selections from one seeded generator.
    static func distribution(_ table: RouteTable, draws: Int, seed: UInt64) -> [String: Int] {
        var generator = SplitMix64(seed: seed)
        var counts: [String: Int] = [:]
        for _ in 0..<draws {
            guard let selection = table.match(request("/"), using: &generator) else { continue }
            switch selection.outcome {
            case .forward(let backend): counts[backend.name, default: 0] += 1
            case .failure(let failure): counts["500 \(failure)", default: 0] += 1
            case .redirect: counts["redirect", default: 0] += 1
            }
        }
        return counts
    }

    @Test("90/10 over 10,000 draws stays within 1.5 points", arguments: [1, 7, 42, 2026] as [UInt64])
    func ninetyTen(seed: UInt64) {
        let table = RouteTable(parent: reviews, routes: [route("r", [Self.weightedRule([("v1", 90), ("v2", 10)])])])
        let counts = Self.distribution(table, draws: 10_000, seed: seed)
        let share = Double(counts["v1", default: 0]) / 100
        #expect(abs(share - 90) <= 1.5, "v1 got \(share)%")
        #expect(counts.keys.sorted() == ["v1", "v2"])
    }

    @Test("Three backends follow weight / sum, not percentages")
    func threeWay() {
        let table = RouteTable(
            parent: reviews,
            routes: [route("r", [Self.weightedRule([("a", 1), ("b", 2), ("c", 5)])])]
        )
        let counts = Self.distribution(table, draws: 16_000, seed: 3)
        for (name, expected) in [("a", 12.5), ("b", 25.0), ("c", 62.5)] {
            let share = Double(counts[name, default: 0]) / 160
            #expect(abs(share - expected) <= 1.5, "\(name) got \(share)%")
        }
    }

    @Test("The same seed gives the same sequence of backends")
    func deterministic() {
        let table = RouteTable(parent: reviews, routes: [route("r", [Self.weightedRule([("v1", 50), ("v2", 50)])])])
        func sequence(_ seed: UInt64) -> [String] {
            var generator = SplitMix64(seed: seed)
            return (0..<20).map { _ in table.match(request("/"), using: &generator)?.backend?.name ?? "-" }
        }
        #expect(sequence(9) == sequence(9))
        #expect(sequence(9) != sequence(10))
    }

    @Test("Weight 0 never gets traffic; a single positive weight gets all of it")
    func zeroWeight() {
        let table = RouteTable(
            parent: reviews,
            routes: [route("r", [Self.weightedRule([("off", 0), ("on", 3), ("off2", 0)])])]
        )
        #expect(Self.distribution(table, draws: 1000, seed: 5) == ["on": 1000])
    }

    @Test("All weights 0, or no backendRefs: no backend, answered 500")
    func noBackend() {
        let zero = RouteTable(parent: reviews, routes: [route("r", [Self.weightedRule([("a", 0), ("b", 0)])])])
        let selection = zero.match(request("/"))
        #expect(selection?.outcome == .failure(.noBackend))
        #expect(selection?.localStatusCode == 500)
        let empty = RouteTable(parent: reviews, routes: [route("r", [HTTPRouteRule()])])
        #expect(empty.match(request("/"))?.outcome == .failure(.noBackend))
    }

    @Test("An invalid backend fails only its share, and only for its route")
    func invalidBackend() {
        let routes = [
            route(
                "split",
                [
                    HTTPRouteRule(
                        matches: [HTTPRouteMatch(path: .pathPrefix("/split"))],
                        backendRefs: [
                            HTTPBackendRef(service: "good", port: 9080, weight: 80),
                            HTTPBackendRef(service: "missing", port: 9080, weight: 20),
                        ]
                    )
                ]
            ),
            route("other", [rule(to: "good")]),
        ]
        let table = RouteTable(parent: reviews, routes: routes) { backend in
            backend.name == "missing" ? .invalid(.backendNotFound) : .valid
        }
        var generator = SplitMix64(seed: 11)
        var failures = 0
        for _ in 0..<10_000 {
            let selection = table.match(request("/split/x"), using: &generator)
            if case .failure(.invalidBackend(let backend, .backendNotFound)) = selection?.outcome {
                #expect(backend == RouteBackend(namespace: "shop", name: "missing", port: 9080))
                failures += 1
            }
        }
        #expect(abs(Double(failures) / 100 - 20) <= 1.5)
        #expect(backendName(table, request("/elsewhere")) == "good")
    }

    @Test("The default resolver accepts core Services only")
    func defaultResolver() {
        let ref = HTTPBackendRef(
            BackendObjectReference(group: "networking.istio.io", kind: "Hostname", name: "x", port: 80)
        )
        let table = RouteTable(parent: reviews, routes: [route("r", [HTTPRouteRule(backendRefs: [ref])])])
        #expect(
            backendName(table, request("/"))
                == "500 backend networking.istio.io/Hostname shop/x:80 is invalid (InvalidKind)"
        )
    }

    @Test("Backend namespace defaults to the route's")
    func backendNamespace() {
        let ref = HTTPBackendRef(service: "v1", namespace: "other", port: 80)
        let table = RouteTable(
            parent: reviews,
            routes: [
                route("r", [HTTPRouteRule(backendRefs: [ref, HTTPBackendRef(service: "v2", port: 81, weight: 0)])])
            ]
        )
        #expect(table.match(request("/"))?.backend == RouteBackend(namespace: "other", name: "v1", port: 80))
    }

    @Test(
        "index(forDraw:) splits the 64-bit draw space by cumulative weight",
        arguments: [
            (UInt64.min, 1), (UInt64.max / 4 - 1, 1), (UInt64.max / 4 + 1, 3), (UInt64.max, 3),
        ] as [(UInt64, Int)]
    )
    func drawBoundaries(draw: UInt64, expected: Int) {
        let choice = WeightedChoice(weights: [0, 1, 0, 3])
        #expect(choice.index(forDraw: draw) == expected)
        #expect(choice.total == 4)
        #expect(choice.share(of: 3) == 0.75)
    }

    @Test("An empty choice picks nothing")
    func emptyChoice() {
        var generator = SplitMix64(seed: 1)
        #expect(WeightedChoice(weights: []).index(using: &generator) == nil)
        #expect(WeightedChoice(weights: [0, 0]).isEmpty)
        #expect(WeightedChoice(weights: [-5, 0]).index(forDraw: 123) == nil)
    }
}
