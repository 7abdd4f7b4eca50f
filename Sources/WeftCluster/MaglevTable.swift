// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A Maglev lookup table (Eisenbud et al., NSDI 2016; Envoy's `MAGLEV`): the table behind
/// `consistentHash.maglev`.
///
/// **Build.** Each endpoint `e` has a permutation of the `M` slots given by
/// `offset = XXHash64(e, seed 0) mod M` and `skip = XXHash64(e, seed 1) mod (M − 1) + 1`, as Envoy
/// computes them. Endpoints take turns claiming the next free slot of their permutation until every
/// slot is owned, so each endpoint owns `M / n` slots to within one.
///
/// **Lookup.** A request hash maps to the owner of slot `hash mod M`. Removing one endpoint of `n`
/// reassigns its slots and disturbs only a small share of the others.
///
/// **Size.** `M` must be prime for every `skip` to visit all slots. A configured size that is not prime
/// is raised to the next prime (65536 → 65537) rather than rejected; sizes of 0 or less mean the
/// default 65537, and sizes above Envoy's limit ``maximumTableSize`` (5 000 011) are lowered to it.
public struct MaglevTable: Hashable, Sendable {
    /// Istio's and Envoy's default table size, a prime.
    public static let defaultTableSize = 65537
    /// Envoy's largest accepted table size, a prime.
    public static let maximumTableSize = 5_000_011

    /// The endpoint identities the table was built over, indexed as given.
    public let endpoints: [String]
    /// The table size `M`, a prime.
    public let tableSize: Int
    /// The endpoint index owning each slot; empty when there are no endpoints.
    private let slots: [UInt32]

    /// The prime table size a configured `tableSize` resolves to.
    public static func resolvedTableSize(_ tableSize: Int) -> Int {
        guard tableSize > 0 else { return defaultTableSize }
        guard tableSize < maximumTableSize else { return maximumTableSize }
        var candidate = max(2, tableSize)
        while !isPrime(candidate) { candidate += 1 }
        return candidate
    }

    /// Whether `value` is prime (trial division; table sizes are at most a few million).
    static func isPrime(_ value: Int) -> Bool {
        guard value >= 2 else { return false }
        guard value >= 4 else { return true }
        guard value % 2 != 0, value % 3 != 0 else { return false }
        var divisor = 5
        while divisor * divisor <= value {
            if value % divisor == 0 || value % (divisor + 2) == 0 { return false }
            divisor += 6
        }
        return true
    }

    /// Builds a table.
    ///
    /// - Parameters:
    ///   - endpoints: Endpoint identities such as `10.0.0.1:8080`; lookups return indices into it.
    ///   - tableSize: The configured size (resolved with ``resolvedTableSize(_:)``).
    public init(endpoints: [String], tableSize: Int = MaglevTable.defaultTableSize) {
        self.endpoints = endpoints
        let size = Self.resolvedTableSize(tableSize)
        self.tableSize = size
        guard !endpoints.isEmpty else {
            self.slots = []
            return
        }
        let modulus = UInt64(size)
        var position = endpoints.map { XXHash64.hash($0, seed: 0) % modulus }
        let skip = endpoints.map { XXHash64.hash($0, seed: 1) % (modulus - 1) + 1 }
        let unowned = UInt32.max
        var slots = [UInt32](repeating: unowned, count: size)
        var filled = 0
        fill: while true {
            for index in endpoints.indices {
                // Walk this endpoint's permutation to its next free slot.
                while slots[Int(position[index])] != unowned {
                    position[index] = (position[index] + skip[index]) % modulus
                }
                slots[Int(position[index])] = UInt32(truncatingIfNeeded: index)
                position[index] = (position[index] + skip[index]) % modulus
                filled += 1
                if filled == size { break fill }
            }
        }
        self.slots = slots
    }

    /// The index of the endpoint owning `hash`, or `nil` for a table without endpoints.
    public func endpointIndex(forHash hash: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        return Int(slots[Int(hash % UInt64(tableSize))])
    }
}
