// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Synchronization

/// The node's exit summary: inbound plaintext accepted and refused and inbound mTLS streams, so an operator can
/// see when STRICT is safe (no plaintext left). Everything else is counted in ``NodeTelemetry``'s metrics.
public final class NodeCounters: Sendable {
    private let plaintextAcceptedCount = Atomic<Int>(0)
    private let plaintextRefusedCount = Atomic<Int>(0)
    private let mtlsCount = Atomic<Int>(0)

    public init() {}

    func plaintextAccepted() { plaintextAcceptedCount.add(1, ordering: .relaxed) }
    func plaintextRefused() { plaintextRefusedCount.add(1, ordering: .relaxed) }
    func mtlsAccepted() { mtlsCount.add(1, ordering: .relaxed) }

    public var snapshot: (plaintextAccepted: Int, plaintextRefused: Int, mtls: Int) {
        (plaintextAcceptedCount.load(ordering: .relaxed), plaintextRefusedCount.load(ordering: .relaxed), mtlsCount.load(ordering: .relaxed))
    }
}
