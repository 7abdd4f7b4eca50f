// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Synchronization

/// Counters the node keeps before full metrics exist: inbound plaintext accepted and refused, inbound mTLS
/// streams, so an operator can see when STRICT is safe (no plaintext left). Logged periodically and at exit.
public final class NodeCounters: Sendable {
    private let plaintextAcceptedCount = Atomic<Int>(0)
    private let plaintextRefusedCount = Atomic<Int>(0)
    private let mtlsCount = Atomic<Int>(0)
    private let policyDeniedCount = Atomic<Int>(0)

    public init() {}

    func plaintextAccepted() { plaintextAcceptedCount.add(1, ordering: .relaxed) }
    func plaintextRefused() { plaintextRefusedCount.add(1, ordering: .relaxed) }
    func mtlsAccepted() { mtlsCount.add(1, ordering: .relaxed) }
    func policyDenied() { policyDeniedCount.add(1, ordering: .relaxed) }
    /// Connections refused or closed by AuthorizationPolicy.
    public var policyDenials: Int { policyDeniedCount.load(ordering: .relaxed) }

    public var snapshot: (plaintextAccepted: Int, plaintextRefused: Int, mtls: Int) {
        (plaintextAcceptedCount.load(ordering: .relaxed), plaintextRefusedCount.load(ordering: .relaxed), mtlsCount.load(ordering: .relaxed))
    }
}
