// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import CWeftLinux
import NIOCore
import NIOPosix
import WeftHBONE
import WeftModel
import WeftRedirect
#if canImport(Glibc)
import Glibc
#endif

/// Opens the node's connections from inside a pod's network namespace, as ztunnel's in-pod mode does: the
/// socket is created on the namespace's thread and carries the node's mark, so the pod's redirect rules let it
/// through (no capture loop) while routing, source address and network policy are the pod's own.
///
/// The non-blocking connect is awaited on a thread pool, then the connected socket is handed to SwiftNIO on
/// the requested event loop.
struct PodDialer: UpstreamDialer {
    let namespace: NetworkNamespace
    let mark: UInt32
    let threadPool: NIOThreadPool
    /// Whether `from` addresses are honoured (IP_TRANSPARENT source spoofing); off when the pod's policy routing
    /// could not be installed, because replies would then not come back.
    var spoofSource = false

    func connect(
        to address: SocketAddress,
        from sourceIP: IPAddress?,
        on eventLoop: any EventLoop,
        timeout: TimeAmount,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        let namespace = self.namespace
        let mark = self.mark
        let spoof = self.spoofSource
        let millis = Int32(clamping: timeout.nanoseconds / 1_000_000)
        return threadPool.runIfActive(eventLoop: eventLoop) { () throws -> Int32 in
            let ipv6 = address.protocol == .inet6
            var source: UInt32? = nil
            if spoof, let from = sourceIP, case .v4(let raw) = from { source = raw }
            let transparent = source
            let fd = try namespace.run { try PodSockets.markedSocket(ipv6: ipv6, mark: mark, transparentSource: transparent) }
            do {
                try Self.blockingConnect(fd: fd, to: address, timeoutMillis: millis)
                return fd
            } catch {
                close(fd)
                throw error
            }
        }.flatMap { fd in
            ClientBootstrap(group: eventLoop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer(initializer)
                .withConnectedSocket(fd)
        }
    }

    /// Starts a non-blocking connect and waits for it with `poll`, up to the timeout.
    static func blockingConnect(fd: Int32, to address: SocketAddress, timeoutMillis: Int32) throws {
        var rc: Int32 = 0
        switch address {
        case .v4(let a):
            var sa = a.address
            rc = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let a):
            var sa = a.address
            rc = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        default:
            throw PodSockets.Error(operation: "connect \(address)", errno: EAFNOSUPPORT)
        }
        if rc == 0 { return }
        guard errno == EINPROGRESS else { throw PodSockets.Error(operation: "connect \(address)", errno: errno) }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&pfd, 1, timeoutMillis)
        guard ready > 0 else {
            throw PodSockets.Error(operation: "connect \(address)", errno: ready == 0 ? ETIMEDOUT : errno)
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else { throw PodSockets.Error(operation: "connect \(address)", errno: error) }
    }
}
