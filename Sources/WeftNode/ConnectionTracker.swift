// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import NIOCore

/// The node's live sockets, so shutdown can wait for the proxied connections to drain and then force the rest
/// closed. Transport connections (inbound HBONE) are tracked apart: an idle pooled connection from a peer carries
/// nothing to wait for, so it does not hold the drain up; it is closed at the end.
public final class ConnectionTracker: Sendable {
    private struct State {
        var proxied: [ObjectIdentifier: any Channel] = [:]
        var transport: [ObjectIdentifier: any Channel] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Tracks a proxied connection (an application's socket, or the upstream of one) until it closes.
    public func track(_ channel: any Channel) {
        add(channel, transport: false)
    }

    /// Tracks an inbound HBONE connection until it closes.
    public func trackTransport(_ channel: any Channel) {
        add(channel, transport: true)
    }

    private func add(_ channel: any Channel, transport: Bool) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue {
            if transport { $0.transport[id] = channel } else { $0.proxied[id] = channel }
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue {
                if transport { _ = $0.transport.removeValue(forKey: id) } else { _ = $0.proxied.removeValue(forKey: id) }
            }
        }
    }

    /// Proxied sockets open now.
    public var count: Int { state.withLockedValue { $0.proxied.count } }

    /// Waits until every proxied connection has closed, or `deadline` passes; then closes what is left, transport
    /// connections included.
    /// - Returns: how many proxied sockets had to be forced closed.
    @discardableResult
    public func drain(deadline: ContinuousClock.Instant) async -> Int {
        while count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let (proxied, transport) = state.withLockedValue { (Array($0.proxied.values), Array($0.transport.values)) }
        for channel in proxied + transport { channel.close(promise: nil) }
        return proxied.count
    }
}
