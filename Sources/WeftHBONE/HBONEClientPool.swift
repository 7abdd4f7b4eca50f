// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import WeftIdentity
import WeftModel
import WeftTLS

/// The HBONE client: a pool of mutual-TLS HTTP/2 connections, each carrying up to 100 CONNECT streams.
///
/// Connections are keyed by (source identity, destination identity, next hop) and by event loop: a stream is
/// always opened on a connection owned by the event loop of the socket it will be spliced with, so both legs of
/// a proxied connection, its TLS and its HTTP/2 stream run on one thread with no cross-thread hand-off.
public final class HBONEClientPool: Sendable {
    /// What identifies interchangeable connections.
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public var source: SPIFFEID
        public var destination: SPIFFEID
        /// The next hop's HBONE address, `ip:15008`.
        public var address: HostPort
        /// The source workload's address the connection is made from (`nil`: the kernel picks). Part of the key
        /// because two workloads with one identity must not share a connection that carries the other's address.
        public var sourceIP: IPAddress?

        public init(source: SPIFFEID, destination: SPIFFEID, address: HostPort, sourceIP: IPAddress? = nil) {
            self.source = source
            self.destination = destination
            self.address = address
            self.sourceIP = sourceIP
        }

        public var description: String { "\(source.principal)->\(destination.principal)@\(address)" }
    }

    struct PartitionKey: Hashable, Sendable {
        var key: Key
        var loop: ObjectIdentifier
    }

    typealias Machine = HBONEPoolStateMachine<PartitionKey>

    private struct State {
        var machine: Machine
        var connections: [Machine.ConnectionID: EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer>] = [:]
        var channels: [Machine.ConnectionID: any Channel] = [:]
        var clientContexts: [SPIFFEID: (serial: String, context: NIOSSLContext)] = [:]
        var opened = 0
        var closed = false
    }

    private let state: NIOLockedValueBox<State>
    private let configuration: HBONEConfiguration
    private let identities: IdentityManager
    private let verifier: PeerVerifier
    private let logger: Logger
    private let sweeper: NIOLockedValueBox<RepeatedTask?> = NIOLockedValueBox(nil)
    private let clock = NIODeadline.now

    public init(
        configuration: HBONEConfiguration,
        identities: IdentityManager,
        verifier: PeerVerifier,
        logger: Logger,
        sweepOn loop: any EventLoop
    ) {
        self.configuration = configuration
        self.identities = identities
        self.verifier = verifier
        self.logger = logger
        self.state = NIOLockedValueBox(
            State(
                machine: Machine(
                    maxStreamsPerConnection: configuration.maxStreamsPerConnection,
                    idleTimeout: Double(configuration.idleTimeout.nanoseconds) / 1e9,
                    reuse: configuration.pooling
                )
            )
        )
        let period = TimeAmount.nanoseconds(min(configuration.idleTimeout.nanoseconds / 2, TimeAmount.seconds(30).nanoseconds))
        let task = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            self?.closeIdle()
        }
        sweeper.withLockedValue { $0 = task }
    }

    private static func seconds(_ deadline: NIODeadline) -> Double {
        Double(deadline.uptimeNanoseconds) / 1e9
    }

    /// Opens a tunnel: a CONNECT stream on a pooled connection owned by `eventLoop`. The returned stream channel
    /// has answered 200 and carries `ByteBuffer`s (an ``HBONEStreamCodec`` is installed).
    public func openStream(
        key: Key,
        request: HBONERequest,
        on eventLoop: any EventLoop,
        dialer: any UpstreamDialer = DirectDialer()
    ) -> EventLoopFuture<any Channel> {
        let partition = PartitionKey(key: key, loop: ObjectIdentifier(eventLoop))
        let acquired: (Machine.ConnectionID, EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer>, EventLoopPromise<NIOHTTP2Handler.StreamMultiplexer>?)
        do {
            acquired = try state.withLockedValue { state in
                guard !state.closed else { throw HBONEClientError(reason: "HBONE client is shutting down") }
                switch state.machine.acquire(partition) {
                case .use(let id):
                    guard let future = state.connections[id] else {
                        throw HBONEClientError(reason: "pooled connection \(id) vanished")
                    }
                    return (id, future, nil)
                case .open(let id):
                    // The connection is started outside the lock; waiters share this promise meanwhile.
                    let promise = eventLoop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer.self)
                    state.connections[id] = promise.futureResult
                    state.opened += 1
                    return (id, promise.futureResult, promise)
                }
            }
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let (id, connection, opening) = acquired
        if let opening {
            connect(id: id, key: key, on: eventLoop, dialer: dialer).cascade(to: opening)
        }
        // The reserved slot is released exactly once: when the stream channel closes, or, if it never came to
        // exist (connection or stream creation failed), when that failure is known.
        connection.whenFailure { [weak self] _ in self?.streamClosed(id) }
        return connection.flatMap { multiplexer -> EventLoopFuture<any Channel> in
            let response = eventLoop.makePromise(of: Void.self)
            let stream = multiplexer.createStreamChannel { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HBONEClientStreamHandler(request: request, response: response)
                    )
                }
            }
            stream.whenFailure { [weak self] error in
                self?.streamClosed(id)
                response.fail(error)
            }
            stream.whenSuccess { channel in
                channel.closeFuture.whenComplete { [weak self] _ in self?.streamClosed(id) }
            }
            return stream.and(response.futureResult).flatMapThrowing { channel, _ in
                try channel.pipeline.syncOperations.addHandler(HBONEStreamCodec())
                return channel
            }
        }
    }

    private func streamClosed(_ id: Machine.ConnectionID) {
        let now = Self.seconds(.now())
        let done = state.withLockedValue { state -> (any Channel)? in
            guard state.machine.streamClosed(id, now: now) else { return nil }
            state.connections[id] = nil
            return state.channels.removeValue(forKey: id)
        }
        done?.close(promise: nil)
    }

    private func connect(
        id: Machine.ConnectionID,
        key: Key,
        on eventLoop: any EventLoop,
        dialer: any UpstreamDialer
    ) -> EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer> {
        let context: NIOSSLContext
        do {
            context = try clientContext(for: key.source)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let verifier = self.verifier
        let configuration = self.configuration
        let logger = self.logger
        let ready = eventLoop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer.self)
        let failure = NIOLockedValueBox<String?>(nil)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
            // A TLS connection ends as a whole: the peer's FIN must close it, not half-close it.
            _ = channel.setOption(.allowRemoteHalfClosure, value: false)
            return channel.eventLoop.makeCompletedFuture {
                let callback = MeshTLS.verificationCallback(verifier: verifier, expected: [key.destination]) { error in
                    failure.withLockedValue { $0 = error.reason }
                }
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(
                    try NIOSSLClientHandler(
                        context: context, serverHostname: nil, customVerificationCallbackWithMetadata: callback
                    )
                )
                        try sync.addHandler(
                    ALPNEnforcer { outcome, handlerContext in
                        switch outcome {
                        case .wrongProtocol(let proto):
                            ready.fail(HBONEClientError(reason: "server \(key.address) did not negotiate h2 (got \(proto ?? "none"))"))
                        case .negotiated:
                            do {
                                let sync = handlerContext.pipeline.syncOperations
                                try sync.addHandler(WriteCoalescer())
                                try sync.addHandler(PlaintextChunker())
                                let mux = try sync.configureHTTP2Pipeline(
                                    mode: .client,
                                    connectionConfiguration: configuration.connectionConfiguration(server: false),
                                    streamConfiguration: configuration.streamConfiguration
                                ) { inbound in
                                    // Servers do not open streams towards an HBONE client.
                                    inbound.close()
                                }
                                try sync.addHandler(
                                    KeepaliveHandler(
                                        interval: configuration.keepaliveInterval,
                                        timeout: configuration.keepaliveTimeout
                                    ) { [weak self] in self?.markUnusable(id) }
                                )
                                try sync.addHandler(ClientConnectionErrorHandler())
                                ready.succeed(mux)
                            } catch {
                                ready.fail(error)
                            }
                        }
                    }
                )
            }
        }
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: "\(key.address.ip)", port: Int(key.address.port))
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        dialer.connect(
            to: address, from: key.sourceIP, on: eventLoop, timeout: configuration.connectTimeout, initializer: initializer
        ).whenComplete { [weak self] result in
            switch result {
            case .success(let channel):
                self?.state.withLockedValue { $0.channels[id] = channel }
                channel.closeFuture.whenComplete { [weak self] _ in
                    self?.connectionClosed(id)
                    let reason = failure.withLockedValue { $0 } ?? "connection to \(key.address) closed during the TLS handshake"
                    ready.fail(HBONEClientError(reason: reason))
                }
                logger.debug("hbone connection opened", metadata: ["key": "\(key)", "conn": "\(id)"])
            case .failure(let error):
                self?.connectionClosed(id)
                ready.fail(HBONEClientError(reason: "cannot reach \(key.address): \(error)"))
            }
        }
        return ready.futureResult
    }

    private func clientContext(for source: SPIFFEID) throws -> NIOSSLContext {
        let certificate = try identities.certificate(for: source)
        if let cached = state.withLockedValue({ $0.clientContexts[source] }), cached.serial == certificate.serial {
            return cached.context
        }
        let context = try MeshTLS.clientContext(presenting: certificate, keyExchange: configuration.keyExchange)
        state.withLockedValue { $0.clientContexts[source] = (certificate.serial, context) }
        return context
    }

    private func markUnusable(_ id: Machine.ConnectionID) {
        state.withLockedValue { $0.machine.markUnusable(id) }
    }

    private func connectionClosed(_ id: Machine.ConnectionID) {
        state.withLockedValue { state in
            state.machine.connectionClosed(id)
            state.connections[id] = nil
            state.channels[id] = nil
        }
    }

    /// Closes connections idle past the idle timeout.
    public func closeIdle() {
        let now = Self.seconds(.now())
        let channels = state.withLockedValue { state -> [any Channel] in
            state.machine.expireIdle(now: now).compactMap { id in
                state.connections[id] = nil
                return state.channels.removeValue(forKey: id)
            }
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Stops taking streams and closes every connection (streams on them are reset).
    public func shutdown() {
        sweeper.withLockedValue { $0?.cancel() }
        let channels = state.withLockedValue { state -> [any Channel] in
            state.closed = true
            return Array(state.channels.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Pool statistics.
    public struct Statistics: Sendable {
        public var connections: Int
        public var streams: Int
        public var connectionsOpened: Int
    }

    public var statistics: Statistics {
        state.withLockedValue {
            Statistics(connections: $0.machine.connectionCount, streams: $0.machine.streamCount, connectionsOpened: $0.opened)
        }
    }
}

/// Closes a client connection on any error (its streams fail and their sockets are reset).
final class ClientConnectionErrorHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ClientConnectionErrorHandler: Sendable {}
