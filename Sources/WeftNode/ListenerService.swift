// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif
import ServiceLifecycle

/// One listening socket as a `Service`: bound when started, closed on graceful shutdown (stop accepting); the
/// node's drain then lets accepted connections finish.
public struct ListenerService: Service {
    public let name: String
    public let address: SocketAddress
    let group: any EventLoopGroup
    let logger: Logger
    let childInitializer: @Sendable (any Channel) -> EventLoopFuture<Void>
    let bound: @Sendable (Result<any Channel, any Error>) -> Void
    /// TCP half-close is carried for plain entries (SOCKS5); a TLS listener wants EOF to close the connection.
    let halfClosure: Bool
    /// Data-plane listeners share their port with a restarted node (takeover); the admin endpoints do not, so a
    /// second node on the same address fails to start instead of answering half the scrapes.
    let reusePort: Bool

    public init(
        name: String,
        address: SocketAddress,
        group: any EventLoopGroup,
        logger: Logger,
        halfClosure: Bool = true,
        reusePort: Bool = true,
        bound: @escaping @Sendable (Result<any Channel, any Error>) -> Void = { _ in },
        childInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) {
        self.name = name
        self.address = address
        self.group = group
        self.logger = logger
        self.bound = bound
        self.halfClosure = halfClosure
        self.reusePort = reusePort
        self.childInitializer = childInitializer
    }

    public func run() async throws {
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(
                    ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_REUSEPORT)),
                    value: reusePort ? 1 : 0
                )
                .childChannelOption(.allowRemoteHalfClosure, value: halfClosure)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer(childInitializer)
                .bind(to: address)
                .get()
        } catch {
            bound(.failure(error))
            throw ListenerError(name: name, address: address, underlying: error)
        }
        bound(.success(server))
        logger.info("listening", metadata: ["listener": "\(name)", "addr": "\(address)"])
        await withGracefulShutdownHandler {
            try? await server.closeFuture.get()
        } onGracefulShutdown: {
            server.close(promise: nil)
        }
    }
}

/// A listener could not bind.
public struct ListenerError: Error, CustomStringConvertible {
    public var name: String
    public var address: SocketAddress
    public var underlying: any Error

    public var description: String {
        "cannot listen for \(name) on \(address): \(underlying); is another weft node (or another program) using it, and is the address configured on this host?"
    }
}
