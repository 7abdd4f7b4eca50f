// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Consistent hashing (`consistentHash`): the same hash key keeps reaching the same endpoint while the
/// endpoint set and availability do not change.
///
/// A request hash is looked up first in the table built over *every* endpoint. If that endpoint is
/// available it is the choice, so keys placed on available endpoints never move because some other
/// endpoint is out. If it is not available, the hash is looked up in a second table built over the
/// available endpoints only; that table is cached for the availability set it was built for and
/// rebuilt only when the set changes (as Envoy rebuilds on a host-set change), so keys of an unavailable
/// endpoint spread consistently over the others and return to it when it comes back.
///
/// Envoy builds its one table over the healthy hosts, so an ejection can also move keys between hosts
/// that stayed healthy (a few with Maglev, none with a ring); Weft's two-level lookup avoids that.
extension LoadBalancer {
    /// The consistent-hash choice for `hash`.
    mutating func consistentChoice(hash: UInt64, isAvailable: (Int) -> Bool) -> Int? {
        guard let primary = table?.endpointIndex(forHash: hash) else { return nil }
        if isAvailable(primary) { return primary }
        let members = endpoints.indices.filter(isAvailable)
        switch members.count {
        case 0: return nil
        case 1: return members[0]
        default: break
        }
        if fallback?.members != members {
            fallback = FallbackTable(
                members: members,
                table: ConsistentHashTable(policy: policy, endpoints: members.map { endpoints[$0] }))
        }
        return fallback?.table?.endpointIndex(forHash: hash).map { members[$0] }
    }
}

/// A ring or Maglev table, whichever the policy asks for.
enum ConsistentHashTable: Sendable {
    case ring(RingHashTable)
    case maglev(MaglevTable)

    /// The table for `policy` over `endpoints`; `nil` for policies that do not hash.
    init?(policy: LoadBalancer.Policy, endpoints: [String]) {
        switch policy {
        case .ringHash(let minimumRingSize):
            self = .ring(RingHashTable(endpoints: endpoints, minimumRingSize: minimumRingSize))
        case .maglev(let tableSize):
            self = .maglev(MaglevTable(endpoints: endpoints, tableSize: tableSize))
        case .roundRobin, .random, .leastRequest, .passthrough:
            return nil
        }
    }

    /// The index (into the endpoints the table was built over) owning `hash`.
    func endpointIndex(forHash hash: UInt64) -> Int? {
        switch self {
        case .ring(let ring): ring.endpointIndex(forHash: hash)
        case .maglev(let maglev): maglev.endpointIndex(forHash: hash)
        }
    }
}

/// The table over the available endpoints, and which endpoints those were.
struct FallbackTable: Sendable {
    /// Indices into ``LoadBalancer/endpoints`` of the available endpoints, ascending.
    var members: [Int]
    /// The table over `members`; its indices are positions in `members`.
    var table: ConsistentHashTable?
}
