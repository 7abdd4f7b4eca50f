// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
//
// The HBONE data path in one process on loopback: an `HBONEClientPool` ("node A", one event-loop thread) talks
// TLS 1.3 mTLS + HTTP/2 CONNECT to a listener configured by `HBONEServer.configure` ("node B", another
// event-loop thread), whose router splices each stream to an in-process TCP echo server (the "app", on node B's
// thread). All ports are 127.0.0.1 ports chosen by the OS.
//
// - echo N MiB: one tunnel stream opened in setup; each iteration writes N MiB (in 64 KiB writes, as a spliced
//   TCP socket would hand them over) and waits until the same number of bytes came back. Wall clock and CPU are
//   for the whole round trip: client encrypt + HTTP/2 framing, server decrypt + splice to TCP, echo, and back.
//   CPU is the process's, so both nodes and the echo app are counted.
// - open stream: a CONNECT round trip on a pooled, already-established connection (HEADERS → router → TCP
//   connect to the app → 200).
// - cold connection: TCP connect + TLS 1.3 handshake with both certificates verified by `PeerVerifier` + ALPN +
//   HTTP/2 preface/SETTINGS + CONNECT → 200, with pooling off (`HBONEConfiguration.pooling = false`).
//
// Only the open/connect is measured in the last two; closing the stream (and the connection) and waiting until
// the server has finished with it happens after `stopMeasurement()`, so iterations do not overlap.

import Benchmark
import BenchmarkSupport
import Dispatch
import Logging
import NIOCore
import NIOPosix
import Synchronization
import WeftHBONE
import WeftIdentity
import WeftModel
import WeftTLS

let benchmarks: @Sendable () -> Void = {
    for mebibytes in [1, 16] {
        let size = mebibytes << 20
        hboneBenchmark(
            "HBONE echo \(mebibytes) MiB through one open stream",
            .weft(
                timeUnits: .microseconds, warmupIterations: mebibytes == 1 ? 5 : 2,
                maxDuration: .seconds(10), maxIterations: mebibytes == 1 ? 2_000 : 300
            ),
            setup: { try await EchoFixture.start(payloadSize: size) },
            finish: { try await $0.finish() }
        ) { benchmark, fixture in
            let cpu = CPUStopwatch()
            try await fixture.roundTrip()
            cpu.record(in: benchmark)
        }
    }

    hboneBenchmark(
        "HBONE open stream on a pooled connection (CONNECT round trip)",
        .weft(timeUnits: .microseconds, warmupIterations: 20, maxDuration: .seconds(6), maxIterations: 3_000),
        setup: { try await Mesh.start() },
        finish: { mesh in
            // Every stream, warm-up included, must have reused the one connection.
            let opened = mesh.pool.statistics.connectionsOpened
            guard opened == 1 else {
                throw BenchmarkCheckFailed("\(opened) connections were opened; the pool did not reuse one")
            }
            try await mesh.shutdown()
        }
    ) { benchmark, mesh in
        let cpu = CPUStopwatch()
        let stream = try await mesh.pool.openStream(key: mesh.key, request: mesh.request, on: mesh.clientLoop).get()
        cpu.record(in: benchmark)
        benchmark.stopMeasurement()
        try await mesh.closeAndSettle(stream)
    }

    hboneBenchmark(
        "HBONE cold connection (TCP + TLS 1.3 mTLS + h2 + CONNECT)",
        .weft(timeUnits: .microseconds, warmupIterations: 5, maxDuration: .seconds(8), maxIterations: 1_000),
        setup: { try await Mesh.start() },
        finish: { mesh in
            let (opened, accepted) = (mesh.coldPool.statistics.connectionsOpened, mesh.serverConnections.total)
            guard opened == mesh.ledger.finished, accepted == opened else {
                throw BenchmarkCheckFailed(
                    "cold pool opened \(opened) connections, server accepted \(accepted), "
                        + "\(mesh.ledger.finished) streams finished")
            }
            try await mesh.shutdown()
        }
    ) { benchmark, mesh in
        let cpu = CPUStopwatch()
        let stream = try await mesh.coldPool.openStream(key: mesh.key, request: mesh.request, on: mesh.clientLoop).get()
        cpu.record(in: benchmark)
        benchmark.stopMeasurement()
        try await mesh.closeAndSettle(stream)
    }
}

/// Registers a benchmark whose state is set up once and torn down (checked, shut down) after its last iteration.
/// The harness's teardown hook gets no state, hence the slot.
func hboneBenchmark<State: Sendable>(
    _ name: String,
    _ configuration: Benchmark.Configuration,
    setup: @escaping @Sendable () async throws -> State,
    finish: @escaping @Sendable (State) async throws -> Void,
    body: @escaping (Benchmark, State) async throws -> Void
) {
    let slot = Mutex<State?>(nil)
    Benchmark(name, configuration: configuration) { benchmark, state in
        try await body(benchmark, state)
        Watchdog.shared.progress()
    } setup: {
        Watchdog.shared.arm(name)
        let state = try await setup()
        slot.withLock { $0 = state }
        return state
    } teardown: {
        defer { Watchdog.shared.disarm() }
        if let state = slot.withLock({ $0.take() }) { try await finish(state) }
    }
}

// MARK: - The mesh under test

let clientIdentity = SPIFFEID(trustDomain: "cluster.local", namespace: "bench", serviceAccount: "client")
let serverIdentity = SPIFFEID(trustDomain: "cluster.local", namespace: "bench", serviceAccount: "echo-server")

/// Two "nodes" and an echo app, all on 127.0.0.1.
final class Mesh: Sendable {
    let clientGroup: MultiThreadedEventLoopGroup
    let serverGroup: MultiThreadedEventLoopGroup
    let clientLoop: any EventLoop
    let echoListener: any Channel
    let hboneListener: any Channel
    let pool: HBONEClientPool
    let coldPool: HBONEClientPool
    let key: HBONEClientPool.Key
    let request: HBONERequest
    let ledger: StreamLedger
    /// Connections accepted by the HBONE listener and by the echo app.
    let serverConnections: ConnectionGauge
    let echoConnections: ConnectionGauge

    private init(
        clientGroup: MultiThreadedEventLoopGroup, serverGroup: MultiThreadedEventLoopGroup, echoListener: any Channel,
        hboneListener: any Channel, pool: HBONEClientPool, coldPool: HBONEClientPool, key: HBONEClientPool.Key,
        request: HBONERequest, ledger: StreamLedger, serverConnections: ConnectionGauge,
        echoConnections: ConnectionGauge
    ) {
        self.clientGroup = clientGroup
        self.serverGroup = serverGroup
        self.clientLoop = clientGroup.next()
        self.echoListener = echoListener
        self.hboneListener = hboneListener
        self.pool = pool
        self.coldPool = coldPool
        self.key = key
        self.request = request
        self.ledger = ledger
        self.serverConnections = serverConnections
        self.echoConnections = echoConnections
    }

    static func start() async throws -> Mesh {
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            return try await start(clientGroup: clientGroup, serverGroup: serverGroup)
        } catch {
            try? await clientGroup.shutdownGracefully()
            try? await serverGroup.shutdownGracefully()
            throw error
        }
    }

    private static func start(
        clientGroup: MultiThreadedEventLoopGroup, serverGroup: MultiThreadedEventLoopGroup
    ) async throws -> Mesh {
        let logger = {
            var logger = Logger(label: "weft.bench") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = .warning  // rejected connections and streams are logged by Weft at warning
            return logger
        }()

        let ca = try CertificateAuthority.create(trustDomain: "cluster.local")
        let verifier = PeerVerifier(roots: [ca.certificate], trustDomains: ["cluster.local"])
        let serverContext = try MeshTLS.serverContext(
            presenting: try WorkloadCertificate.issue(for: serverIdentity, by: ca, lifetime: 86_400))
        let configuration = HBONEConfiguration()

        // The app: echoes what it reads, closes when its input ends.
        let echoConnections = ConnectionGauge()
        let echoListener = try await ServerBootstrap(group: serverGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                echoConnections.opened(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let echoAddress = echoListener.localAddress, let echoPort = echoAddress.port,
            let loopback = IPAddress("127.0.0.1")
        else { throw BenchmarkCheckFailed("echo listener has no local address") }
        let echoAuthority = HostPort(ip: loopback, port: UInt16(echoPort))

        // Node B: the HBONE listener, as the node daemon sets it up.
        let ledger = StreamLedger()
        let router = EchoRouter(echo: echoAddress, echoAuthority: echoAuthority, ledger: ledger)
        let serverConnections = ConnectionGauge()
        let hboneListener = try await ServerBootstrap(group: serverGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                serverConnections.opened(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try HBONEServer.configure(
                        channel: channel, context: serverContext, verifier: verifier, router: router,
                        configuration: configuration, logger: logger)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let hbonePort = hboneListener.localAddress?.port else {
            throw BenchmarkCheckFailed("HBONE listener has no port")
        }

        // Node A: the client pools, presenting the client identity and expecting the server's.
        let identities = IdentityManager(ca: ca)
        var cold = configuration
        cold.pooling = false
        let sweepLoop = clientGroup.next()
        let pool = HBONEClientPool(
            configuration: configuration, identities: identities, verifier: verifier, logger: logger,
            sweepOn: sweepLoop)
        let coldPool = HBONEClientPool(
            configuration: cold, identities: identities, verifier: verifier, logger: logger, sweepOn: sweepLoop)

        return Mesh(
            clientGroup: clientGroup, serverGroup: serverGroup, echoListener: echoListener,
            hboneListener: hboneListener, pool: pool, coldPool: coldPool,
            key: HBONEClientPool.Key(
                source: clientIdentity, destination: serverIdentity,
                address: HostPort(ip: loopback, port: UInt16(hbonePort))),
            request: HBONERequest(authority: echoAuthority),
            ledger: ledger, serverConnections: serverConnections, echoConnections: echoConnections)
    }

    /// Ends a tunnel the way a client whose app closed does (END_STREAM), waits until the server answered with its
    /// own END_STREAM (the echo app closed), then until the server side reported the stream finished and every
    /// connection the stream or its pool slot used has closed. Fails if the server saw anything but a clean 200.
    func closeAndSettle(_ stream: any Channel) async throws {
        try await stream.close(mode: .output).get()
        try await stream.closeFuture.get()
        try await settle()
    }

    /// Waits until the server finished every stream it accepted, the echo app has no connection left, and only the
    /// pooled connection (if any) is open on the server. Not measured.
    func settle() async throws {
        let pooled = pool.statistics.connections
        try await waitUntil("server finished its streams and closed their connections") {
            ledger.finished == echoConnections.total && echoConnections.open == 0
                && serverConnections.open == pooled
        }
        if let failure = ledger.firstFailure {
            throw BenchmarkCheckFailed("server side of a stream failed: \(failure)")
        }
    }

    /// Checks nothing went wrong on the server side, then closes everything and stops both event loop groups.
    func shutdown() async throws {
        try await settle()
        pool.shutdown()
        coldPool.shutdown()
        try await hboneListener.close().get()
        try await echoListener.close().get()
        try await waitUntil("server connections closed after the pools shut down") { serverConnections.open == 0 }
        try await clientGroup.shutdownGracefully()
        try await serverGroup.shutdownGracefully()
    }
}

/// Polls `condition` (outside the measured region) for up to 30 s.
func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw BenchmarkCheckFailed("timed out waiting: \(what)") }
        try await Task.sleep(for: .microseconds(100))
    }
}

/// Node B's policy: only CONNECTs to the echo app from the client identity, spliced over plain TCP.
struct EchoRouter: HBONEInboundRouter {
    let echo: SocketAddress
    let echoAuthority: HostPort
    let ledger: StreamLedger

    func route(_ request: HBONERequest, from peer: HBONEPeer) -> HBONEInboundDecision {
        guard peer.identity == clientIdentity else {
            return .reject(status: 401, reason: "unexpected peer \(peer.identity)")
        }
        guard request.authority == echoAuthority else {
            return .reject(status: 400, reason: "benchmark only routes to \(echoAuthority), not \(request.authority)")
        }
        return .connect(echo)
    }

    func connect(
        to address: SocketAddress, for peer: HBONEPeer, on eventLoop: any EventLoop
    ) -> EventLoopFuture<any Channel> {
        // As the node's InboundRouter: reads start once the splice is in place.
        DirectDialer().connect(to: address, from: nil, on: eventLoop, timeout: .seconds(10)) { channel in
            channel.setOption(.autoRead, value: false)
        }
    }

    func streamFinished(_ record: HBONEStreamRecord) {
        ledger.record(record)
    }
}

/// What the server reported about finished streams.
final class StreamLedger: Sendable {
    private struct State {
        var finished = 0
        var bytesFromPeer: UInt64 = 0
        var bytesToPeer: UInt64 = 0
        var firstFailure: String?
    }
    private let state = Mutex(State())

    func record(_ record: HBONEStreamRecord) {
        state.withLock { state in
            state.finished += 1
            state.bytesFromPeer += record.bytesFromPeer
            state.bytesToPeer += record.bytesToPeer
            if state.firstFailure == nil && (record.status != 200 || !record.clean) {
                state.firstFailure =
                    "status \(record.status), clean \(record.clean), reason \(record.reason ?? "-"), "
                    + "\(record.bytesFromPeer) bytes in, \(record.bytesToPeer) out"
            }
        }
    }

    var finished: Int { state.withLock { $0.finished } }
    var bytes: (fromPeer: UInt64, toPeer: UInt64) { state.withLock { ($0.bytesFromPeer, $0.bytesToPeer) } }
    var firstFailure: String? { state.withLock { $0.firstFailure } }
}

/// Counts connections accepted by a listener and how many are still open.
final class ConnectionGauge: Sendable {
    private let counts = Mutex((open: 0, total: 0))

    func opened(_ channel: any Channel) {
        counts.withLock {
            $0.open += 1
            $0.total += 1
        }
        channel.closeFuture.whenComplete { _ in self.counts.withLock { $0.open -= 1 } }
    }

    var open: Int { counts.withLock { $0.open } }
    var total: Int { counts.withLock { $0.total } }
}

// MARK: - Echo through one open stream

/// A mesh plus one open tunnel with an ``EchoCollector`` at its end, and the payload each iteration sends.
struct EchoFixture: Sendable {
    let mesh: Mesh
    let stream: any Channel
    let collector: NIOLoopBound<EchoCollector>
    let payload: ByteBuffer
    static let writeSize = 64 << 10

    static func start(payloadSize: Int) async throws -> EchoFixture {
        let mesh = try await Mesh.start()
        do {
            let stream = try await mesh.pool.openStream(key: mesh.key, request: mesh.request, on: mesh.clientLoop).get()
            let collector = try await stream.eventLoop.submit {
                let handler = EchoCollector()
                try stream.pipeline.syncOperations.addHandler(handler)
                return NIOLoopBound(handler, eventLoop: stream.eventLoop)
            }.get()
            var bytes = [UInt8](repeating: 0, count: payloadSize)
            var x: UInt32 = 0x9E37_79B9
            for i in bytes.indices {
                x = x &* 1_664_525 &+ 1_013_904_223
                bytes[i] = UInt8(truncatingIfNeeded: x >> 24)
            }
            let fixture = EchoFixture(
                mesh: mesh, stream: stream, collector: collector, payload: ByteBuffer(bytes: bytes))
            // Once, outside the measurement: the bytes that come back are the bytes that were sent, in order.
            guard let echoed = try await fixture.send(keepingEcho: true), echoed == fixture.payload else {
                throw BenchmarkCheckFailed("echoed bytes differ from the payload")
            }
            return fixture
        } catch {
            try? await mesh.shutdown()
            throw error
        }
    }

    /// One measured iteration: the payload out and back; fails unless exactly as many bytes came back.
    func roundTrip() async throws {
        _ = try await send(keepingEcho: false)
    }

    private func send(keepingEcho: Bool) async throws -> ByteBuffer? {
        let (collector, payload) = (self.collector, self.payload)
        let eventLoop = stream.eventLoop
        return try await eventLoop.flatSubmit {
            collector.value.roundTrip(payload, writeSize: Self.writeSize, keepingEcho: keepingEcho, on: eventLoop)
        }.get()
    }

    /// Ends the stream cleanly and checks the server's byte counts against the client's, then shuts down.
    func finish() async throws {
        let collector = self.collector
        let (sent, received) = try await stream.eventLoop.submit { collector.value.totals }.get()
        try await mesh.closeAndSettle(stream)
        let server = mesh.ledger.bytes
        guard sent == received, server.fromPeer == sent, server.toPeer == sent, mesh.ledger.finished == 1 else {
            throw BenchmarkCheckFailed(
                "byte counts differ: client sent \(sent), received \(received); server got \(server.fromPeer), "
                    + "sent \(server.toPeer), over \(mesh.ledger.finished) streams")
        }
        try await mesh.shutdown()
    }
}

/// The client end of the echo tunnel: writes a payload, counts what comes back, and completes when exactly as
/// many bytes as were sent have arrived. Anything else (more bytes, the stream ending or failing) fails the
/// round trip.
final class EchoCollector: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var expected = 0
    private var received = 0
    private var pending: EventLoopPromise<ByteBuffer?>?
    private var echo: ByteBuffer?
    private(set) var totals: (sent: UInt64, received: UInt64) = (0, 0)

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func roundTrip(
        _ payload: ByteBuffer, writeSize: Int, keepingEcho: Bool, on eventLoop: any EventLoop
    ) -> EventLoopFuture<ByteBuffer?> {
        guard let context else { return eventLoop.makeFailedFuture(BenchmarkCheckFailed("the tunnel stream is gone")) }
        guard pending == nil else {
            return eventLoop.makeFailedFuture(BenchmarkCheckFailed("a round trip is already running"))
        }
        let promise = context.eventLoop.makePromise(of: ByteBuffer?.self)
        pending = promise
        expected = payload.readableBytes
        received = 0
        echo = keepingEcho ? ByteBuffer() : nil
        totals.sent += UInt64(payload.readableBytes)
        // Slices of one buffer: no copy. The last write's promise tells whether the writes failed.
        let written = context.eventLoop.makePromise(of: Void.self)
        var rest = payload
        while let chunk = rest.readSlice(length: min(writeSize, rest.readableBytes)), chunk.readableBytes > 0 {
            context.write(wrapOutboundOut(chunk), promise: rest.readableBytes == 0 ? written : nil)
        }
        context.flush()
        written.futureResult.assumeIsolated().whenFailure { [weak self] error in
            self?.fail(BenchmarkCheckFailed("write failed: \(error)"))
        }
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readableBytes
        totals.received += UInt64(buffer.readableBytes)
        echo?.writeBuffer(&buffer)
        if received > expected {
            fail(BenchmarkCheckFailed("received \(received) bytes, more than the \(expected) sent"))
        } else if received == expected, let promise = pending {
            pending = nil
            promise.succeed(echo)
            echo = nil
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            fail(BenchmarkCheckFailed("the server ended the stream after \(received) of \(expected) bytes"))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(BenchmarkCheckFailed("the tunnel stream closed after \(received) of \(expected) bytes"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(BenchmarkCheckFailed("the tunnel stream failed after \(received) of \(expected) bytes: \(error)"))
        context.close(promise: nil)
    }

    private func fail(_ error: BenchmarkCheckFailed) {
        guard let promise = pending else { return }
        pending = nil
        promise.fail(error)
    }
}

/// The app: echoes every byte, closes when its input ends.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

// MARK: - Failing loudly


/// Aborts the benchmark process when an armed benchmark makes no progress for a minute (a future that never
/// completes would otherwise hang the run silently). Progress is one atomic increment per iteration, so it costs
/// nothing measurable.
final class Watchdog: Sendable {
    static let shared = Watchdog()

    private let beats = Atomic<Int>(0)
    private let state = Mutex<(name: String?, lastBeats: Int, stale: Int)>((nil, 0, 0))

    private init() {
        scheduleCheck()
    }

    private func scheduleCheck() {
        DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
            self.check()
            self.scheduleCheck()
        }
    }

    func arm(_ name: String) { state.withLock { $0 = (name, beats.load(ordering: .relaxed), 0) } }
    func disarm() { state.withLock { $0.name = nil } }
    func progress() { beats.add(1, ordering: .relaxed) }

    private func check() {
        let now = beats.load(ordering: .relaxed)
        let hung: String? = state.withLock { state in
            guard let name = state.name else { return nil }
            if now != state.lastBeats {
                state.lastBeats = now
                state.stale = 0
                return nil
            }
            state.stale += 5
            return state.stale >= 60 ? name : nil
        }
        if let hung { fatalError("benchmark '\(hung)' made no progress for 60 s; a future never completed") }
    }
}
