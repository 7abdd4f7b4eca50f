// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import NIOCore

/// The node's live proxied connections, so shutdown can wait for them to drain and then force the rest closed.
public final class ConnectionTracker: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    public init() {}

    /// Tracks `channel` until it closes.
    public func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.channels.withLockedValue { _ = $0.removeValue(forKey: id) }
        }
    }

    public var count: Int { channels.withLockedValue { $0.count } }

    /// Waits until every tracked connection has closed, or `deadline` passes; then closes what is left.
    /// - Returns: how many connections had to be forced closed.
    @discardableResult
    public func drain(deadline: ContinuousClock.Instant) async -> Int {
        while count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = channels.withLockedValue { Array($0.values) }
        for channel in left { channel.close(promise: nil) }
        return left.count
    }
}
