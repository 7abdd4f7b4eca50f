// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Picks an index with probability weight / sum of weights, deterministically from a random draw.
///
/// Built once per rule; ``index(forDraw:)`` is a binary search over cumulative weights and does not
/// allocate. Entries of weight 0 (or less) are never picked; when every weight is 0 there is nothing to
/// pick and the caller answers 500 (Gateway API: "weight 0 = no traffic").
///
/// The draw is scaled to `0..<total` with a 128-bit multiply (the high word of `draw × total`), so a
/// uniform 64-bit draw gives each unit of weight the same share to within 2⁻⁴⁴ for Gateway API's largest
/// totals; injecting the draw (or the generator) makes tests and replays deterministic.
public struct WeightedChoice: Hashable, Sendable {
    /// The weights as given (negative values count as 0).
    public let weights: [Int]
    /// Running sums: `cumulative[i]` is the sum of weights `0...i`.
    let cumulative: [UInt64]
    /// The index of the only entry with a positive weight, when there is exactly one.
    let soleIndex: Int?

    /// Prepares a choice over `weights`.
    public init(weights: [Int]) {
        self.weights = weights
        var sum: UInt64 = 0
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(weights.count)
        for weight in weights {
            sum += UInt64(max(weight, 0))
            cumulative.append(sum)
        }
        self.cumulative = cumulative
        let positive = weights.indices.filter { weights[$0] > 0 }
        self.soleIndex = positive.count == 1 ? positive[0] : nil
    }

    /// The sum of the weights.
    public var total: UInt64 { cumulative.last ?? 0 }

    /// Whether nothing can be picked (no entries, or all weights 0).
    public var isEmpty: Bool { total == 0 }

    /// The share of index `i`, between 0 and 1.
    public func share(of index: Int) -> Double {
        guard total > 0 else { return 0 }
        return Double(max(weights[index], 0)) / Double(total)
    }

    /// The index picked by `draw`, a uniformly random 64-bit value; `nil` when ``isEmpty``.
    public func index(forDraw draw: UInt64) -> Int? {
        let total = self.total
        guard total > 0 else { return nil }
        if let soleIndex { return soleIndex }
        let point = draw.multipliedFullWidth(by: total).high
        // First index whose running sum exceeds the point; zero-weight entries repeat the previous sum
        // and so are never the first to exceed it.
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > point {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }

    /// The index picked by the next value of `generator`; `nil` when ``isEmpty``. Draws nothing when
    /// only one entry has a positive weight.
    public func index(using generator: inout some RandomNumberGenerator) -> Int? {
        guard total > 0 else { return nil }
        if let soleIndex { return soleIndex }
        return index(forDraw: generator.next())
    }
}

/// SplitMix64 (Steele, Lea and Flood): a small, fast, seedable generator with good statistical quality.
///
/// For deterministic backend choice and mirroring in tests and replays; the waypoint can also use it per
/// connection, seeded from the system generator, to avoid a system call per request.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable {
    /// The generator's state; the next output is a function of it.
    public private(set) var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) {
        self.state = seed
    }

    /// The next 64-bit value.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
