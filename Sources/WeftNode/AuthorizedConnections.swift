// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import NIOCore
import WeftModel
import WeftPolicy

/// The inbound connections this node let in, with the facts they were authorized on. When the configuration
/// changes, each one is checked again — AuthorizationPolicy, and STRICT PeerAuthentication for plaintext — and
/// those now refused are reset on both sides (the application's socket here; the splice then resets the caller's
/// side: an HBONE stream with RST_STREAM, a plaintext caller with a TCP reset).
public final class AuthorizedConnections: Sendable {
    struct Entry {
        var facts: ConnectionFacts
        var workload: Workload
        var channel: any Channel
    }

    /// Why a live connection was closed on reload.
    enum Refusal: CustomStringConvertible {
        case policy(Decision)
        case strict(PeerAuthentication?)

        var description: String {
            switch self {
            case .policy(let decision): "\(decision)"
            case .strict(let policy):
                "plaintext refused: STRICT mTLS by PeerAuthentication \(policy.map { "\($0.namespace)/\($0.name)" } ?? "-")"
            }
        }
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    public init() {}

    /// Remembers `channel` (the connection to the local workload) until it closes.
    func add(_ facts: ConnectionFacts, workload: Workload, channel: any Channel) {
        let key = ObjectIdentifier(channel)
        entries.withLockedValue { $0[key] = Entry(facts: facts, workload: workload, channel: channel) }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.entries.withLockedValue { $0.removeValue(forKey: key) }
        }
    }

    /// Re-evaluates every live connection under `policies` and `snapshot`'s PeerAuthentications; resets those now
    /// refused and returns them with the reason.
    func revalidate(under policies: PolicySet, snapshot: MeshSnapshot) -> [(ConnectionFacts, Refusal)] {
        let live = entries.withLockedValue { Array($0.values) }
        var closed: [(ConnectionFacts, Refusal)] = []
        for entry in live {
            if entry.facts.sourceIdentity == nil {
                let (mode, policy) = PeerAuthentication.effectiveMode(
                    for: entry.workload, port: entry.facts.destinationPort, policies: snapshot.peerAuthentications,
                    rootNamespace: snapshot.rootNamespace
                )
                if mode == .strict {
                    closed.append((entry.facts, .strict(policy)))
                    resetAndClose(entry.channel)
                    continue
                }
            }
            let decision = policies.evaluate(entry.facts)
            guard !decision.isAllowed else { continue }
            closed.append((entry.facts, .policy(decision)))
            resetAndClose(entry.channel)
        }
        return closed
    }
}
