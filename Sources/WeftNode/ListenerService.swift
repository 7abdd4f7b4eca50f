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
        // One listening socket per event loop (SO_REUSEPORT), each keeping what it accepts on its own loop: an
        // accepted connection is never handed to another thread (one eventfd wake-up and a context switch per
        // connection, measured on the bench's new-connection cell), and it is spliced with an HBONE connection
        // of that same loop. Without SO_REUSEPORT (admin endpoints) there is one socket.
        let loops: [any EventLoop] = reusePort ? Array(group.makeIterator()) : [group.next()]
        var servers: [any Channel] = []
        do {
            for loop in loops {
                // Port 0 (tests): the first socket picks the port, the others join it.
                let target = servers.first?.localAddress ?? address
                servers.append(try await bootstrap(on: loop).bind(to: target).get())
            }
        } catch {
            for server in servers { server.close(promise: nil) }
            bound(.failure(error))
            throw ListenerError(name: name, address: address, underlying: error)
        }
        let listening = servers
        bound(.success(listening[0]))
        logger.info(
            "listening", metadata: ["listener": "\(name)", "addr": "\(Self.shown(address, bound: listening[0]))", "sockets": "\(listening.count)"]
        )
        await withGracefulShutdownHandler {
            for server in listening { try? await server.closeFuture.get() }
        } onGracefulShutdown: {
            for server in listening { server.close(promise: nil) }
        }
    }

    /// The configured address, with the port the kernel chose when it was 0 (in the configured form: no host
    /// name part, as operators and tests read it).
    private static func shown(_ address: SocketAddress, bound: any Channel) -> SocketAddress {
        guard address.port == 0, let port = bound.localAddress?.port, let ip = address.ipAddress,
            let actual = try? SocketAddress(ipAddress: ip, port: port)
        else { return address }
        return actual
    }

    private func bootstrap(on loop: any EventLoop) -> ServerBootstrap {
        ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(
                ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_REUSEPORT)),
                value: reusePort ? 1 : 0
            )
            .childChannelOption(.allowRemoteHalfClosure, value: halfClosure)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer(childInitializer)
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
