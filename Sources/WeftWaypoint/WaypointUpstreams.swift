// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import WeftCluster
import WeftHBONE
import WeftModel
import WeftRoute

/// Opens the waypoint's upstreams: HBONE streams, as the waypoint's identity, to endpoints of a cluster. Per
/// cluster it keeps the DestinationRule behaviour Envoy gives a cluster — the load balancer, outlier detection,
/// the circuit breakers with their pending queue, and an idle keep-alive pool — as pure state from WeftCluster
/// under one lock. An endpoint that refused a connection is avoided for a few seconds and the next one is tried
/// at once.
public final class WaypointUpstreams: Sendable {
    /// A stream to an endpoint, ready for HTTP.
    public struct Upstream: Sendable {
        public var channel: any Channel
        /// `ip:port` of the endpoint.
        public var endpoint: String
        public var ip: IPAddress
        /// An idle HTTP/1.1 stream taken from the keep-alive pool (its codecs are already in place).
        public var reused = false
    }

    /// Why no upstream could be opened, with the response it maps to.
    public struct Failure: Error, CustomStringConvertible {
        /// 503 for each: no endpoint or none healthy (Envoy `UH`), every endpoint refused (`UF`), the circuit
        /// breaker's connection and pending limits are full (`UO`).
        public var flag: String
        public var description: String
        /// The answer carries `x-envoy-overloaded: true`.
        public var overloaded: Bool { flag == "UO" }
    }

    /// How a queued request continues.
    enum Grant {
        /// An idle stream on the request's loop.
        case reuse(any Channel)
        /// Open a new stream (a connection slot is counted for it).
        case open
    }

    struct Waiter {
        var id: UInt64
        var loop: any EventLoop
        var promise: EventLoopPromise<Grant>
        /// The endpoint the request chose: a released stream is handed over only when it goes there.
        var endpoint: String
    }

    /// One cluster's state: a reference, changed in place and only under ``clusters``' lock.
    final class ClusterState: @unchecked Sendable {
        var settings: TrafficPolicy.Settings
        var balancer: LoadBalancer
        var outliers: OutlierDetector
        var breaker: CircuitBreaker
        var waiters: [Waiter] = []
        /// Endpoints that refused a connection, until when they are avoided.
        var refused: [String: NIODeadline] = [:]
        /// Idle keep-alive streams per endpoint and event loop.
        var idle: [IdleKey: [any Channel]] = [:]
        /// The cluster's endpoints as of one snapshot (see ``Resolved``).
        var resolved: Resolved?

        init(_ cluster: UpstreamCluster, endpoints: [String]) {
            settings = cluster.settings
            balancer = LoadBalancer(settings: cluster.settings.loadBalancer, endpoints: endpoints)
            outliers = OutlierDetector(settings: cluster.settings.outlierDetection, endpoints: endpoints)
            breaker = CircuitBreaker(settings: cluster.settings.connectionPool)
        }

        /// Follows a reload: new endpoints or settings keep the state of what stays.
        func sync(_ cluster: UpstreamCluster, endpoints: [String]) {
            guard endpoints != balancer.endpoints || cluster.settings != settings else { return }
            balancer.update(endpoints: endpoints, settings: cluster.settings.loadBalancer)
            outliers.update(settings: cluster.settings.outlierDetection, endpoints: endpoints)
            breaker.update(settings: cluster.settings.connectionPool)
            settings = cluster.settings
        }
    }

    /// A cluster's endpoints resolved from one snapshot, kept until the snapshot changes: every request used to
    /// select and format them again.
    struct Resolved {
        var snapshot: AnyObject
        var subsetLabels: [String: String]
        /// `ip:port` of each endpoint, in the snapshot's order.
        var endpoints: [String]
        var targets: [String: (Workload, HostPort)]

        init(cluster: UpstreamCluster, snapshot: MeshSnapshot, servicePort: ServicePort) {
            self.snapshot = snapshot.identity
            self.subsetLabels = cluster.subsetLabels
            var targets: [String: (Workload, HostPort)] = [:]
            var endpoints: [String] = []
            for workload in cluster.endpoints(in: snapshot) {
                guard let ip = workload.addresses.first, let port = WaypointUpstreams.targetPort(servicePort, on: workload) else {
                    continue
                }
                let target = HostPort(ip: ip, port: port)
                let key = "\(target)"
                if targets[key] == nil { endpoints.append(key) }
                targets[key] = (workload, target)
            }
            self.endpoints = endpoints
            self.targets = targets
        }
    }

    struct IdleKey: Hashable {
        var endpoint: String
        var loop: ObjectIdentifier
    }

    private let pool: HBONEClientPool
    private let identity: SPIFFEID
    private let hbonePort: UInt16
    let clusters = NIOLockedValueBox<[String: ClusterState]>([:])
    private let nextWaiter = NIOLockedValueBox<UInt64>(0)
    /// Idle streams kept per endpoint and event loop; more are closed.
    static let idleLimit = 128
    /// How long a request may wait in a cluster's pending queue (Istio's default `connectTimeout`).
    static let pendingTimeout = TimeAmount.seconds(10)

    private let logger: Logger

    public init(pool: HBONEClientPool, identity: SPIFFEID, hbonePort: UInt16 = 15008, logger: Logger = Logger(label: "weft.waypoint")) {
        self.pool = pool
        self.identity = identity
        self.hbonePort = hbonePort
        self.logger = logger
    }

    /// Every cluster's gauges and overflow totals, for `/metrics`.
    public func statistics() -> [ClusterStatistics] {
        let now = ContinuousClock.now
        return clusters.withLockedValue { clusters in
            clusters.map { name, state in
                ClusterStatistics(
                    cluster: name, endpoints: state.balancer.endpoints.count, ejectedEndpoints: state.outliers.ejectedCount(now: now),
                    activeRequests: state.breaker.activeRequests, activeConnections: state.breaker.activeConnections,
                    pendingRequests: state.breaker.pendingRequests, activeRetries: state.breaker.activeRetries,
                    requestOverflows: state.breaker.requestOverflows, connectionOverflows: state.breaker.connectionOverflows,
                    pendingOverflows: state.breaker.pendingOverflows, retryOverflows: state.breaker.retryOverflows
                )
            }
        }
    }

    /// Records an attempt's result for outlier detection (under the lock) and logs an ejection.
    private func recordOutcome(
        _ state: ClusterState, cluster: UpstreamCluster, endpoint: String, result: OutlierDetector.Result,
        now: ContinuousClock.Instant
    ) -> (() -> Void)? {
        guard case .ejected(let until) = state.outliers.record(endpoint: endpoint, result: result, now: now) else { return nil }
        let seconds = Double((until - now).components.seconds) + Double((until - now).components.attoseconds) / 1e18
        let logger = self.logger
        return {
            logger.warning(
                "endpoint ejected by outlier detection",
                metadata: ["cluster": "\(cluster.name)", "endpoint": "\(endpoint)", "seconds": "\(Int(seconds.rounded()))"]
            )
        }
    }

    /// The state of `cluster`, created on first use (call under the lock).
    private static func state(_ cluster: UpstreamCluster, in clusters: inout [String: ClusterState]) -> ClusterState {
        if let state = clusters[cluster.name] { return state }
        let state = ClusterState(cluster, endpoints: [])
        clusters[cluster.name] = state
        return state
    }

    // MARK: - Requests

    /// Admits a request to `cluster` under its `http2MaxRequests` limit; `false`: answer 503 `UO`.
    func admitRequest(_ cluster: UpstreamCluster) -> Bool {
        clusters.withLockedValue { Self.state(cluster, in: &$0).breaker.startRequest() }
    }

    /// Ends a request admitted by ``admitRequest(_:)``; `retried`: it held a retry slot.
    func finishRequest(_ cluster: UpstreamCluster, retried: Bool) {
        clusters.withLockedValue { clusters in
            clusters[cluster.name]?.breaker.finishRequest()
            if retried { clusters[cluster.name]?.breaker.finishRetry() }
        }
    }

    /// Admits a request's first retry under `maxRetries`.
    func admitRetry(_ cluster: UpstreamCluster) -> Bool {
        clusters.withLockedValue { $0[cluster.name]?.breaker.startRetry() ?? true }
    }

    /// Ends one attempt on `endpoint`: least-request accounting, and outlier detection with its result
    /// (`nil`: the attempt was abandoned, e.g. the client went away; it counts for nothing).
    func attemptFinished(_ cluster: UpstreamCluster, endpoint: String, result: OutlierDetector.Result?) {
        let now = ContinuousClock.now
        let log = clusters.withLockedValue { clusters -> (() -> Void)? in
            guard let state = clusters[cluster.name] else { return nil }
            if let index = state.balancer.index(of: endpoint) { state.balancer.requestFinished(index) }
            guard let result else { return nil }
            return recordOutcome(state, cluster: cluster, endpoint: endpoint, result: result, now: now)
        }
        log?()
    }

    // MARK: - Opening

    /// Opens a stream to an endpoint of `service` on `port` (the Service port), on `eventLoop` (L4 use).
    public func open(service: MeshService, port: UInt16, snapshot: MeshSnapshot, on eventLoop: any EventLoop) -> EventLoopFuture<Upstream> {
        open(cluster: UpstreamCluster(service: service, port: port), snapshot: snapshot, on: eventLoop)
    }

    /// Opens a stream to an endpoint of `cluster`, chosen by its load balancer among the endpoints outlier
    /// detection has not ejected, on `eventLoop`.
    /// - Parameters:
    ///   - reuse: HTTP/1.1 requests (``HTTPProxyHandler`` only): take an idle keep-alive stream to the chosen
    ///     endpoint if there is one, and apply the connection limits (`maxConnections`, then the pending queue).
    ///   - hash: The request's consistent-hash key, when the cluster hashes.
    ///   - tracked: Count the attempt for least-request balancing; the caller must call ``attemptFinished``.
    func open(
        cluster: UpstreamCluster, snapshot: MeshSnapshot, on eventLoop: any EventLoop, reuse: Bool = false,
        hash: UInt64? = nil, tracked: Bool = false, pendingID: UInt64? = nil, avoiding: Set<String> = []
    ) -> EventLoopFuture<Upstream> {
        let service = cluster.service
        guard let servicePort = service.port(cluster.port) else {
            return eventLoop.makeFailedFuture(Failure(flag: "NR", description: "\(service.hostname) has no port \(cluster.port)"))
        }
        let resolved = clusters.withLockedValue { clusters in
            let state = Self.state(cluster, in: &clusters)
            if let cached = state.resolved, cached.snapshot === snapshot.identity, cached.subsetLabels == cluster.subsetLabels {
                return cached
            }
            let fresh = Resolved(cluster: cluster, snapshot: snapshot, servicePort: servicePort)
            state.resolved = fresh
            return fresh
        }
        let endpoints = resolved.endpoints
        let targets = resolved.targets
        guard !endpoints.isEmpty else {
            return eventLoop.makeFailedFuture(Failure(flag: "UH", description: "no healthy upstream: no endpoint for \(cluster.name)"))
        }
        let loop = ObjectIdentifier(eventLoop)
        var evicted: (any Channel)?
        var queued: EventLoopPromise<Grant>?
        let waiterID = pendingID ?? makePendingID()
        let choice: Result<(String, [String], Grant?), Failure> = clusters.withLockedValue { clusters in
            let state = Self.state(cluster, in: &clusters)
            state.sync(cluster, endpoints: endpoints)
            let now = NIODeadline.now()
            let clock = ContinuousClock.now
            let outliers = state.outliers
            let refused = state.refused
            let panic = outliers.ignoresEjections(endpointCount: endpoints.count, now: clock)
            let healthy = { (i: Int) in panic || !outliers.isEjected(endpoints[i], now: clock) }
            let fresh = { (i: Int) in (refused[endpoints[i]] ?? now) <= now }
            var generator = BufferedRandom()
            // A retry avoids the endpoints already tried when another is available (Istio's default
            // `retryIgnorePreviousHosts`), except under consistent hashing, where Istio does not set it either.
            let avoid = cluster.settings.loadBalancer?.consistentHash == nil ? avoiding : []
            var chosen =
                (avoid.isEmpty ? nil : state.balancer.choose(hash: hash, isAvailable: { healthy($0) && fresh($0) && !avoid.contains(endpoints[$0]) }))
                ?? state.balancer.choose(hash: hash, isAvailable: { healthy($0) && fresh($0) })
                ?? state.balancer.choose(hash: hash, isAvailable: healthy)
            if chosen == nil, state.balancer.isPassthrough {
                // In a waypoint the original destination is the Service VIP, resolved here: PASSTHROUGH picks at random.
                chosen = (0..<endpoints.count).filter { healthy($0) && fresh($0) }.randomElement(using: &generator)
                    ?? (0..<endpoints.count).filter(healthy).randomElement(using: &generator)
            }
            guard let index = chosen else {
                return .failure(Failure(flag: "UH", description: "no healthy upstream: every endpoint of \(cluster.name) is ejected"))
            }
            let endpoint = endpoints[index]
            var grant: Grant? = .open
            if reuse {
                let idleKey = IdleKey(endpoint: endpoint, loop: loop)
                var idleChannel: (any Channel)?
                while idleChannel == nil, let channel = state.idle[idleKey]?.popLast() {
                    if channel.isActive { idleChannel = channel }
                }
                switch state.breaker.needConnection(idleAvailable: idleChannel != nil) {
                case .reuseIdle: grant = idleChannel.map { .reuse($0) }
                case .open: grant = .open
                case .queue:
                    grant = nil
                    // Queued under the same lock that decided it, so a slot freed meanwhile cannot be missed.
                    let promise = eventLoop.makePromise(of: Grant.self)
                    state.waiters.append(Waiter(id: waiterID, loop: eventLoop, promise: promise, endpoint: endpoint))
                    queued = promise
                    // An idle stream elsewhere (another endpoint or event loop) holds a slot this request could use:
                    // closing it hands the slot to the queue.
                    if let key = state.idle.first(where: { !$0.value.isEmpty })?.key {
                        evicted = state.idle[key]?.removeLast()
                        if state.idle[key]?.isEmpty == true { state.idle[key] = nil }
                    }
                case .overflow:
                    return .failure(Failure(flag: "UO", description: "upstream overflow: \(cluster.name) is at its connection and pending-request limits"))
                }
            }
            if tracked { state.balancer.requestStarted(index) }
            if case .reuse = grant { return .success((endpoint, [], grant)) }
            // The others, healthy first, for when the chosen one refuses (not needed for a kept-alive stream).
            let rest = endpoints.indices.filter { $0 != index }.sorted { healthy($0) && !healthy($1) }.map { endpoints[$0] }
            return .success((endpoint, rest, grant))
        }
        let endpoint: String
        let rest: [String]
        let granted: Grant?
        defer { evicted?.close(promise: nil) }
        switch choice {
        case .failure(let failure): return eventLoop.makeFailedFuture(failure)
        case .success(let value): (endpoint, rest, granted) = value
        }
        let targetsByEndpoint = targets
        let proceed: @Sendable (Grant) -> EventLoopFuture<Upstream> = { [self] grant in
            switch grant {
            case .reuse(let channel):
                let target = targetsByEndpoint[endpoint]!.1
                return eventLoop.makeSucceededFuture(Upstream(channel: channel, endpoint: endpoint, ip: target.ip, reused: true))
            case .open:
                let order = ([endpoint] + rest).compactMap { targetsByEndpoint[$0] }
                return attempt(order[...], cluster: cluster, counted: reuse, snapshot: snapshot, on: eventLoop, errors: [])
            }
        }
        let opened: EventLoopFuture<Upstream>
        if let granted {
            opened = proceed(granted)
        } else if let queued {
            expirePending(cluster, id: waiterID, promise: queued, on: eventLoop)
            opened = queued.futureResult.flatMap(proceed)
        } else {
            opened = eventLoop.makeFailedFuture(Failure(flag: "UF", description: "no connection for \(cluster.name)"))
        }
        guard tracked else { return opened }
        return opened.flatMapErrorThrowing { [self] error in
            attemptFinished(cluster, endpoint: endpoint, result: nil)  // connect failures were recorded per endpoint
            throw error
        }
    }

    /// Queues a request for a connection of `cluster` (the pool is at `maxConnections`); fails with `UF` after
    /// ``pendingTimeout``.
    /// A fresh identity for a request that may wait in a pending queue (see ``cancelPending(_:id:)``).
    func makePendingID() -> UInt64 {
        nextWaiter.withLockedValue { value in
            value &+= 1
            return value
        }
    }

    /// A request queued for a connection of `cluster` gave up (route timeout, client gone, overtaken by a retry):
    /// it leaves the queue and its pending slot is freed at once. Nothing happens if it is not queued.
    func cancelPending(_ cluster: UpstreamCluster, id: UInt64) {
        let waiter: Waiter? = clusters.withLockedValue { clusters in
            guard let state = clusters[cluster.name], let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                return nil
            }
            state.breaker.pendingResolved()
            return state.waiters.remove(at: index)
        }
        waiter?.promise.fail(Failure(flag: "UF", description: "gave up waiting for a connection of \(cluster.name)"))
    }

    /// Fails a queued request with `UF` after ``pendingTimeout`` if it is still waiting.
    private func expirePending(_ cluster: UpstreamCluster, id: UInt64, promise: EventLoopPromise<Grant>, on eventLoop: any EventLoop) {
        eventLoop.scheduleTask(in: Self.pendingTimeout) { [self] in
            let expired = clusters.withLockedValue { clusters -> Bool in
                guard let state = clusters[cluster.name], let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                    return false
                }
                state.waiters.remove(at: index)
                state.breaker.pendingResolved()
                return true
            }
            if expired {
                promise.fail(Failure(flag: "UF", description: "upstream connect timeout: waited \(Self.pendingTimeout) in the pending queue of \(cluster.name)"))
            }
        }
    }

    private func attempt(
        _ order: ArraySlice<(Workload, HostPort)>, cluster: UpstreamCluster, counted: Bool, snapshot: MeshSnapshot,
        on eventLoop: any EventLoop, errors: [String]
    ) -> EventLoopFuture<Upstream> {
        guard let (workload, target) = order.first else {
            if counted { connectionClosed(cluster) }
            return eventLoop.makeFailedFuture(
                Failure(flag: "UF", description: "every endpoint refused: " + errors.joined(separator: "; "))
            )
        }
        let key = HBONEClientPool.Key(
            source: identity, destination: snapshot.identity(of: workload), address: HostPort(ip: target.ip, port: hbonePort),
            sourceIP: nil
        )
        let request = HBONERequest(authority: target, traceparent: HBONEHeaders.traceparent())
        let endpoint = "\(target)"
        return pool.openStream(key: key, request: request, on: eventLoop).map { [self] channel in
            if counted {
                // Once per stream: when it closes, it leaves the idle pool (if it sits there) and frees its slot.
                let key = IdleKey(endpoint: endpoint, loop: ObjectIdentifier(eventLoop))
                channel.closeFuture.whenComplete { _ in self.connectionClosed(cluster, idle: (key, channel)) }
            }
            return Upstream(channel: channel, endpoint: endpoint, ip: target.ip)
        }
        .flatMapError { [self] error in
            let now = ContinuousClock.now
            let log = clusters.withLockedValue { clusters -> (() -> Void)? in
                guard let state = clusters[cluster.name] else { return nil }
                state.refused[endpoint] = .now() + .seconds(5)
                return recordOutcome(state, cluster: cluster, endpoint: endpoint, result: .localFailure, now: now)
            }
            log?()
            return attempt(
                order.dropFirst(), cluster: cluster, counted: counted, snapshot: snapshot, on: eventLoop,
                errors: errors + ["\(target): \(error)"]
            )
        }
    }

    /// A counted connection closed (or never opened): its slot goes to the first queued request, if any.
    private func connectionClosed(_ cluster: UpstreamCluster, idle: (IdleKey, any Channel)? = nil) {
        let waiter: Waiter? = clusters.withLockedValue { clusters in
            guard let state = clusters[cluster.name] else { return nil }
            if let (key, channel) = idle, let index = state.idle[key]?.firstIndex(where: { $0 === channel }) {
                state.idle[key]?.remove(at: index)
                if state.idle[key]?.isEmpty == true { state.idle[key] = nil }
            }
            state.breaker.connectionClosed()
            guard !state.waiters.isEmpty else { return nil }
            let waiter = state.waiters.removeFirst()
            state.breaker.pendingResolved()
            state.breaker.takeConnectionSlot()  // the freed slot is the waiter's, whatever the limit is now
            return waiter
        }
        waiter?.promise.succeed(.open)
    }

    // MARK: - Keep-alive

    /// Puts a finished HTTP/1.1 upstream stream back for reuse (the response ended cleanly, both sides keep the
    /// connection alive, and `maxRequestsPerConnection` allows another). A request queued for a connection of the
    /// cluster gets it at once when it runs on the same event loop; otherwise the stream is closed so the waiter
    /// can open one. Past ``idleLimit`` it is closed.
    func release(_ channel: any Channel, endpoint: String, cluster: UpstreamCluster, served: Int) {
        guard channel.isActive else { return }
        let key = IdleKey(endpoint: endpoint, loop: ObjectIdentifier(channel.eventLoop))
        enum Outcome {
            case kept, close
            case handOver(Waiter)
        }
        let outcome: Outcome = clusters.withLockedValue { clusters in
            guard let state = clusters[cluster.name] else { return .close }
            guard state.breaker.mayReuse(connectionServedRequests: served) else { return .close }
            if let index = state.waiters.firstIndex(where: { $0.loop === channel.eventLoop && $0.endpoint == endpoint }) {
                let waiter = state.waiters.remove(at: index)
                state.breaker.pendingResolved()
                return .handOver(waiter)
            }
            // Waiters for other endpoints or loops: closing the stream frees its slot for the first of them.
            guard state.waiters.isEmpty, state.idle[key, default: []].count < Self.idleLimit else { return .close }
            state.idle[key, default: []].append(channel)
            return .kept
        }
        switch outcome {
        case .close:
            channel.close(promise: nil)
        case .handOver(let waiter):
            waiter.promise.succeed(.reuse(channel))
        case .kept:
            break  // it leaves the pool when it closes (see `attempt`)
        }
    }

    static func targetPort(_ port: ServicePort, on workload: Workload) -> UInt16? {
        switch port.targetPort {
        case .number(let n): n
        case .named(let name): workload.namedPorts[name]
        }
    }
}
