// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOPosix
import WeftModel

/// Opens the node's own outgoing TCP connections. The direct dialer uses the node's network namespace; the
/// in-pod dialer creates sockets inside a pod's namespace, marked so the pod's redirect rules let them pass.
public protocol UpstreamDialer: Sendable {
    /// Connects to `address` from `sourceIP` (when given) on `eventLoop`, running `initializer` before the
    /// channel becomes active.
    func connect(
        to address: SocketAddress,
        from sourceIP: IPAddress?,
        on eventLoop: any EventLoop,
        timeout: TimeAmount,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel>
}

/// Plain `ClientBootstrap` connections from the node's namespace.
public struct DirectDialer: UpstreamDialer {
    public init() {}

    public func connect(
        to address: SocketAddress,
        from sourceIP: IPAddress?,
        on eventLoop: any EventLoop,
        timeout: TimeAmount,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer(initializer)
        if let sourceIP, let local = try? SocketAddress(ipAddress: "\(sourceIP)", port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        return bootstrap.connect(to: address)
    }
}
