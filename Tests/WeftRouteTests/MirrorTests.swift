// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// `RequestMirror`: percentages and fractions drawn from injected randomness, several targets,
/// unresolvable targets dropped.
@Suite("Request mirroring")
struct MirrorTests {
    typealias Mirror = HTTPRouteFilter.RequestMirror

    static let shadow = BackendObjectReference(name: "shadow", port: 9080)

    static func mirroredShare(_ portion: Mirror.Portion, draws: Int = 10_000, seed: UInt64 = 17) -> Double {
        let mirror = Mirror(backend: shadow, portion: portion)
        var generator = SplitMix64(seed: seed)
        var count = 0
        for _ in 0..<draws where mirror.isMirrored(using: &generator) { count += 1 }
        return Double(count) * 100 / Double(draws)
    }

    @Test(
        "Share mirrored matches percent or fraction within 1.5 points",
        arguments: [
            (Mirror.Portion.all, 100.0), (.percent(0), 0), (.percent(100), 100), (.percent(50), 50), (.percent(10), 10),
            (.fraction(numerator: 1, denominator: 3), 33.33), (.fraction(numerator: 0, denominator: 5), 0),
            (.fraction(numerator: 7, denominator: 7), 100),
        ]
    )
    func share(portion: Mirror.Portion, expected: Double) {
        let share = Self.mirroredShare(portion)
        #expect(abs(share - expected) <= 1.5, "mirrored \(share)%")
    }

    @Test("The draw decides deterministically: the lowest draws are mirrored")
    func drawBoundaries() {
        let half = Mirror(backend: Self.shadow, portion: .percent(50))
        #expect(half.isMirrored(draw: 0))
        #expect(half.isMirrored(draw: UInt64.max / 2 - 1))
        #expect(!half.isMirrored(draw: UInt64.max / 2 + 2))
        #expect(!half.isMirrored(draw: .max))
    }

    @Test("A selection lists the mirrors that fired; an unresolvable mirror target is dropped")
    func throughTable() {
        let rule = HTTPRouteRule(
            filters: [
                .requestMirror(Mirror(backend: Self.shadow)),
                .requestMirror(Mirror(backend: BackendObjectReference(name: "never", port: 1), portion: .percent(0))),
                .requestMirror(Mirror(backend: BackendObjectReference(name: "gone", port: 1))),
            ],
            backendRefs: [HTTPBackendRef(service: "v1", port: 9080)]
        )
        let table = RouteTable(parent: reviews, routes: [route("r", [rule])]) { backend in
            backend.name == "gone" ? .invalid(.backendNotFound) : .valid
        }
        #expect(table.errors.isEmpty)
        let selection = table.match(request("/"))
        #expect(selection?.backend?.name == "v1")
        #expect(selection?.mirrors == [RouteBackend(namespace: "shop", name: "shadow", port: 9080)])
    }

    @Test("Nothing is mirrored when the request is not forwarded")
    func noMirrorOnFailure() {
        let rule = HTTPRouteRule(filters: [.requestMirror(Mirror(backend: Self.shadow))])
        let selection = RouteTable(parent: reviews, routes: [route("r", [rule])]).match(request("/"))
        #expect(selection?.outcome == .failure(.noBackend))
        #expect(selection?.mirrors == [])
    }
}
