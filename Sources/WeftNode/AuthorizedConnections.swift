// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import NIOCore
import WeftModel
import WeftPolicy

/// The inbound connections this node let in, with the facts they were authorized on. When the policies
/// change, each one is checked again and those now denied are closed (with a reset), as ztunnel does.
public final class AuthorizedConnections: Sendable {
    struct Entry {
        var facts: ConnectionFacts
        var channel: any Channel
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    public init() {}

    /// Remembers `channel` (the connection to the local workload) until it closes.
    func add(_ facts: ConnectionFacts, channel: any Channel) {
        let key = ObjectIdentifier(channel)
        entries.withLockedValue { $0[key] = Entry(facts: facts, channel: channel) }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.entries.withLockedValue { $0.removeValue(forKey: key) }
        }
    }

    /// Re-evaluates every live connection under `policies`; closes those now denied and returns them with the
    /// decision that closed them.
    func revalidate(under policies: PolicySet) -> [(ConnectionFacts, Decision)] {
        let live = entries.withLockedValue { Array($0.values) }
        var closed: [(ConnectionFacts, Decision)] = []
        for entry in live {
            let decision = policies.evaluate(entry.facts)
            guard !decision.isAllowed else { continue }
            closed.append((entry.facts, decision))
            resetAndClose(entry.channel)
        }
        return closed
    }
}
