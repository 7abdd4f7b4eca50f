// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Synchronization
import WeftModel

/// Holds one certificate per identity the node serves and replaces each at half-life.
///
/// Lookups come from the data path (every new TLS connection), so state sits behind a `Mutex` rather than an
/// actor: a lookup never suspends. A replaced certificate only affects connections made afterwards; live
/// connections keep the TLS session they negotiated.
public final class IdentityManager: Sendable {
    /// What the manager knows about one identity, for `/config_dump` and logs.
    public struct Entry: Sendable {
        public var certificate: WorkloadCertificate
        public var rotations: Int
    }

    public let ca: CertificateAuthority
    public let lifetime: TimeInterval
    private let state = Mutex<[SPIFFEID: Entry]>([:])
    private let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - ca: the CA that signs this node's leaves.
    ///   - lifetime: leaf lifetime (24 h by default, as Istio).
    ///   - clock: injected for tests.
    public init(ca: CertificateAuthority, lifetime: TimeInterval = 86_400, clock: @escaping @Sendable () -> Date = Date.init) {
        self.ca = ca
        self.lifetime = lifetime
        self.clock = clock
    }

    public var trustDomain: String { ca.trustDomain }

    /// The current certificate for `identity`, issuing one if the node has none yet.
    public func certificate(for identity: SPIFFEID) throws(IdentityError) -> WorkloadCertificate {
        if let existing = state.withLock({ $0[identity]?.certificate }) { return existing }
        let fresh = try WorkloadCertificate.issue(for: identity, by: ca, lifetime: lifetime, now: clock())
        return state.withLock { entries in
            if let raced = entries[identity] { return raced.certificate }
            entries[identity] = Entry(certificate: fresh, rotations: 0)
            return fresh
        }
    }

    /// Makes sure exactly `identities` have certificates: issues missing ones, forgets the rest.
    public func reconcile(_ identities: Set<SPIFFEID>) throws(IdentityError) {
        state.withLock { entries in
            for key in entries.keys where !identities.contains(key) { entries[key] = nil }
        }
        for identity in identities.sorted() { _ = try certificate(for: identity) }
    }

    /// Re-issues every certificate whose refresh time has come. Returns the identities rotated.
    @discardableResult
    public func rotateDue() throws(IdentityError) -> [SPIFFEID] {
        let now = clock()
        let due = state.withLock { entries in
            entries.filter { $0.value.certificate.refreshAt <= now }.map(\.key).sorted()
        }
        for identity in due {
            let fresh = try WorkloadCertificate.issue(for: identity, by: ca, lifetime: lifetime, now: now)
            state.withLock { entries in
                guard let old = entries[identity] else { return }
                entries[identity] = Entry(certificate: fresh, rotations: old.rotations + 1)
            }
        }
        return due
    }

    /// The earliest refresh time over all certificates, or `nil` when the node holds none.
    public var nextRefresh: Date? {
        state.withLock { $0.values.map(\.certificate.refreshAt).min() }
    }

    /// A copy of every entry, for reporting.
    public var entries: [SPIFFEID: Entry] { state.withLock { $0 } }
}
