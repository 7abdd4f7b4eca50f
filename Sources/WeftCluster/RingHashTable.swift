// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A consistent-hash ring (Envoy's `RING_HASH` with xxHash): the lookup table behind
/// `consistentHash.ringHash`.
///
/// **Build.** Every endpoint gets `ceil(minimumRingSize / endpointCount)` points; point `i` of endpoint
/// `e` sits at `XXHash64("\(e)_\(i)")`, Envoy's key for an endpoint's address. Points are sorted by
/// hash (ties by endpoint index, so the ring does not depend on sort stability).
///
/// **Lookup.** A request hash maps to the first point whose hash is ≥ it, wrapping to the first point.
/// Removing an endpoint therefore moves only the keys that landed on its points — plus, because the
/// points per endpoint are recomputed from the new endpoint count (as Envoy does), the keys that the
/// remaining endpoints' extra points now catch.
///
/// **Size.** Envoy allows rings up to 8 Mi points (`maximum_ring_size`); Weft caps the total at
/// ``maximumRingSize`` (1 Mi points, 12 MiB) so one DestinationRule cannot make a waypoint allocate
/// hundreds of megabytes per cluster. Every endpoint keeps at least one point.
public struct RingHashTable: Hashable, Sendable {
    /// Istio's and Envoy's default `minimumRingSize`.
    public static let defaultMinimumRingSize = 1024
    /// The most points Weft puts on a ring.
    public static let maximumRingSize = 1 << 20

    /// The endpoint identities the ring was built over, indexed as given.
    public let endpoints: [String]
    /// The points' hashes, ascending.
    private let hashes: [UInt64]
    /// The endpoint index owning each point, parallel to `hashes`.
    private let owners: [UInt32]

    /// The ring size a configured `minimumRingSize` resolves to: the default for 0 or less, at most
    /// ``maximumRingSize``.
    public static func resolvedRingSize(_ minimumRingSize: Int) -> Int {
        minimumRingSize <= 0 ? defaultMinimumRingSize : min(minimumRingSize, maximumRingSize)
    }

    /// Builds a ring.
    ///
    /// - Parameters:
    ///   - endpoints: Endpoint identities such as `10.0.0.1:8080`; lookups return indices into it.
    ///   - minimumRingSize: The configured minimum ring size (resolved with ``resolvedRingSize(_:)``).
    public init(endpoints: [String], minimumRingSize: Int = RingHashTable.defaultMinimumRingSize) {
        self.endpoints = endpoints
        guard !endpoints.isEmpty else {
            self.hashes = []
            self.owners = []
            return
        }
        let ringSize = Self.resolvedRingSize(minimumRingSize)
        let perEndpoint = max(1, min((ringSize + endpoints.count - 1) / endpoints.count, Self.maximumRingSize / endpoints.count))
        var points: [(hash: UInt64, owner: UInt32)] = []
        points.reserveCapacity(perEndpoint * endpoints.count)
        for (index, endpoint) in endpoints.enumerated() {
            for point in 0..<perEndpoint {
                points.append((XXHash64.hash("\(endpoint)_\(point)"), UInt32(truncatingIfNeeded: index)))
            }
        }
        points.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.owner < $1.owner }
        self.hashes = points.map(\.hash)
        self.owners = points.map(\.owner)
    }

    /// The number of points on the ring.
    public var pointCount: Int { hashes.count }

    /// The index of the endpoint owning `hash`: the first point at or after it, wrapping around; `nil`
    /// for an empty ring.
    public func endpointIndex(forHash hash: UInt64) -> Int? {
        guard !hashes.isEmpty else { return nil }
        var low = 0
        var high = hashes.count
        while low < high {
            let middle = low + (high - low) / 2
            if hashes[middle] < hash {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return Int(owners[low == hashes.count ? 0 : low])
    }
}
