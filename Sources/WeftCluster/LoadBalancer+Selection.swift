// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension LoadBalancer {
    /// How many random probes ``randomAvailable(excluding:isAvailable:using:)`` makes before counting.
    /// With most endpoints available the first probe nearly always succeeds, so the common case is
    /// O(1); the counting pass keeps the draw exact when few are.
    static let randomProbes = 4

    /// The next available endpoint in rotation, starting at a random endpoint the first time.
    mutating func nextInRotation(
        isAvailable: (Int) -> Bool,
        using generator: inout some RandomNumberGenerator
    ) -> Int? {
        let count = endpoints.count
        let start = rotation ?? Int.random(in: 0..<count, using: &generator)
        for step in 0..<count {
            let index = (start + step) % count
            if isAvailable(index) {
                rotation = (index + 1) % count
                return index
            }
        }
        rotation = start
        return nil
    }

    /// An endpoint drawn uniformly among the available ones other than `excluded`.
    ///
    /// Probes random indices first; each accepted probe is uniform over the eligible endpoints, and so is
    /// the exact fallback (count them, draw a rank, find it), so the result is uniform either way.
    func randomAvailable(
        excluding excluded: Int?,
        isAvailable: (Int) -> Bool,
        using generator: inout some RandomNumberGenerator
    ) -> Int? {
        let count = endpoints.count
        guard count > 0 else { return nil }
        for _ in 0..<Self.randomProbes {
            let index = Int.random(in: 0..<count, using: &generator)
            if index != excluded && isAvailable(index) { return index }
        }
        var eligible = 0
        for index in 0..<count where index != excluded && isAvailable(index) {
            eligible += 1
        }
        guard eligible > 0 else { return nil }
        var rank = Int.random(in: 0..<eligible, using: &generator)
        for index in 0..<count where index != excluded && isAvailable(index) {
            if rank == 0 { return index }
            rank -= 1
        }
        return nil
    }

    /// Power of two choices: two distinct available endpoints at random, the one with fewer active
    /// requests, the first drawn on a tie; the only available endpoint when there is one.
    func leastRequested(
        isAvailable: (Int) -> Bool,
        using generator: inout some RandomNumberGenerator
    ) -> Int? {
        guard let first = randomAvailable(excluding: nil, isAvailable: isAvailable, using: &generator) else {
            return nil
        }
        guard let second = randomAvailable(excluding: first, isAvailable: isAvailable, using: &generator) else {
            return first
        }
        return activeRequests[second] < activeRequests[first] ? second : first
    }
}
