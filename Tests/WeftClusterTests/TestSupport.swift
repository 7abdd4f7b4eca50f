// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A deterministic generator (SplitMix64) so every draw in these tests is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// The reference instant the injected clocks count from; only offsets from it matter.
let t0 = ContinuousClock.now

/// `t0` plus `milliseconds`.
func at(ms milliseconds: Int64) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

/// `t0` plus `seconds`.
func at(s seconds: Int64) -> ContinuousClock.Instant { t0 + .seconds(seconds) }

/// `count` endpoint identities `10.0.0.1:8080`, `10.0.0.2:8080`, …
func endpointList(_ count: Int) -> [String] { (0..<count).map { "10.0.0.\($0 + 1):8080" } }

/// Pearson's chi-square statistic of `counts` against a uniform expectation.
func chiSquare(_ counts: [Int]) -> Double {
    let total = Double(counts.reduce(0, +))
    let expected = total / Double(counts.count)
    return counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
}
