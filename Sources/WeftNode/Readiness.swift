// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import NIOCore

/// What `/healthz/ready` answers: ready only once the configuration is loaded, every certificate the node needs
/// is issued, the pods are enrolled and every data-plane listener is bound — and no longer once draining starts.
public final class Readiness: Sendable {
    private struct State {
        var configurationLoaded = false
        var certificatesIssued = false
        var podsReconciled = false
        var pendingListeners: Set<String> = []
        var failedListeners: Set<String> = []
        var draining = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    func configurationLoaded() { state.withLockedValue { $0.configurationLoaded = true } }
    func certificatesIssued() { state.withLockedValue { $0.certificatesIssued = true } }
    func podsReconciled() { state.withLockedValue { $0.podsReconciled = true } }
    /// Registers a data-plane listener that must be bound before the node is ready; returns the callback for
    /// ``ListenerService``'s `bound`.
    func listener(_ name: String) -> @Sendable (Result<any Channel, any Error>) -> Void {
        _ = state.withLockedValue { $0.pendingListeners.insert(name) }
        return { [state] result in
            state.withLockedValue {
                $0.pendingListeners.remove(name)
                if case .failure = result { $0.failedListeners.insert(name) }
            }
        }
    }
    func draining() { state.withLockedValue { $0.draining = true } }

    /// `nil` when ready, else every reason it is not.
    public var notReadyReasons: [String]? {
        state.withLockedValue { state in
            var reasons: [String] = []
            if state.draining { reasons.append("draining (shutting down)") }
            if !state.configurationLoaded { reasons.append("configuration not loaded") }
            if !state.certificatesIssued { reasons.append("certificates not issued") }
            if !state.podsReconciled { reasons.append("pods not enrolled yet") }
            for name in state.pendingListeners.sorted() { reasons.append("listener not bound yet: \(name)") }
            for name in state.failedListeners.sorted() { reasons.append("listener failed to bind: \(name)") }
            return reasons.isEmpty ? nil : reasons
        }
    }
}
