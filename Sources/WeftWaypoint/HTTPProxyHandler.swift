// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Instrumentation
import NIOCore
import NIOHTTP1
import Tracing
import WeftCluster
import WeftModel
import WeftPolicy
import WeftRoute

/// The waypoint's HTTP/1.1 proxy for one terminated HBONE stream (a client connection to `service:port`):
/// routes each request with the Service port's HTTPRoutes, opens an HBONE stream to an endpoint of the chosen
/// backend, and relays the request and the response. Requests on one connection are handled one at a time
/// (NIO's pipelining handler in front queues the next).
///
/// Answers of its own: 404 no route, 500 invalid backend or unsupported filter, 503 no endpoint or every
/// endpoint refused, 504 when the route's request timeout passes, 3xx for a redirect rule.
final class HTTPProxyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the handler needs from the waypoint.
    struct Environment: Sendable {
        var state: @Sendable () -> WaypointState
        var upstreams: WaypointUpstreams
        /// The Service and port the client addressed (from the CONNECT authority).
        var service: MeshService
        var port: UInt16
        /// The `VIP:port` the client addressed (the CONNECT authority).
        var destination: HostPort
        /// The caller's identity and address (the HBONE peer).
        var peerIdentity: SPIFFEID
        var peerIP: IPAddress?
        var record: @Sendable (RequestRecord) -> Void
        /// HTTP/1.1 or HTTP/2 towards the endpoints (the same as the client spoke).
        var version: HTTPVersionAdapter = .http1
        /// How long a connection may sit without a complete request head: idle keep-alive, or a client sending
        /// its headers too slowly (slowloris). The connection is closed when it passes.
        var headerTimeout: TimeAmount = .seconds(60)
        /// The LocalRateLimitPolicy buckets (shared by every connection of the waypoint).
        var rateLimiter: RateLimiter
    }

    private enum State {
        case idle
        /// Waiting for the upstream stream; request parts that arrive meanwhile are kept.
        case connecting(head: HTTPRequestHead, pending: [HTTPClientRequestPart], ended: Bool)
        case forwarding(upstream: any Channel, ended: Bool)
        /// Answered locally (404, 503 …): the rest of the request is read and dropped.
        case discarding
    }

    private let environment: Environment
    private var state = State.idle
    private var record = RequestRecord()
    private var timeout: Scheduled<Void>?
    private var plan: RequestPlan?
    private var responded = false
    private var headerDeadline: Scheduled<Void>?
    /// Since when the connection waits for a request head (`nil`: a request is in progress).
    private var waitingSince: NIODeadline?
    private var currentContext: ChannelHandlerContext?
    private var attemptTimeout: Scheduled<Void>?
    private var sentUpstream: ContinuousClock.Instant?
    /// The endpoint of the current upstream stream, and whether its response allows the stream to be reused.
    private var upstreamEndpoint: String?
    /// The endpoint of the attempt in flight, until its result is reported (least request, outlier detection).
    private var attemptEndpoint: String?
    /// The cluster this request was admitted to (circuit breaker), until it finishes; whether it holds a retry slot.
    private var admitted: UpstreamCluster?
    private var holdsRetrySlot = false
    /// The request's consistent-hash key, and the affinity cookie generated for it.
    private var requestHash: UInt64?
    private var generatedCookie: String?
    private var upstreamKeepAlive = false
    /// Whether the client's connection stays open after this response (HTTP/1.0, `Connection: close`).
    private var keepAlive = true
    /// The waypoint's span of the current request (a no-op span unless tracing is configured).
    private var span: (any Span)?
    /// The HBONE stream under the current upstream (the same channel for HTTP/1.1; the HTTP/2 connection's
    /// transport for HTTP/2), closed with it.
    private var upstreamTransport: (any Channel)?
    /// The request as sent upstream, kept for retries while it fits ``replayLimit``.
    private var replay: (head: HTTPRequestHead, parts: [HTTPClientRequestPart], bytes: Int, complete: Bool)?
    private var backend: (cluster: UpstreamCluster, snapshot: MeshSnapshot)?
    private var retriesLeft = 0
    /// Inside `channelRead` (a read burst from the client), and the upstream whose writes wait for its end.
    private var reading = false
    private var pendingUpstreamFlush: (any Channel)?
    /// The open in flight (its cluster and pending-queue identity), so a request that gives up leaves the queue.
    private var openInFlight: (UpstreamCluster, UInt64)?
    /// The endpoints this request's attempts went to (a retry prefers another).
    private var triedEndpoints: Set<String> = []
    /// Counts requests on this connection, so a timer of an earlier request is recognised.
    private var requestSerial = 0
    /// Counts upstream opens, so an open that completes after the request moved on is recognised.
    private var openCount = 0
    private var retryCount = 0
    /// Request bodies up to this size are kept so the request can be retried; past it, no retry happens.
    static let replayLimit = 64 * 1024

    init(environment: Environment) {
        self.environment = environment
    }

    func handlerAdded(context: ChannelHandlerContext) {
        currentContext = context
        armHeaderDeadline(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headerDeadline?.cancel()
        headerDeadline = nil
        currentContext = nil
    }

    /// Closes the connection unless a request head arrives in time. One timer per connection, not per request:
    /// when it fires it looks at when the wait began, and sleeps again for the rest if a request came meanwhile.
    private func armHeaderDeadline(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        waitingSince = now
        guard headerDeadline == nil else { return }
        scheduleHeaderCheck(at: now + environment.headerTimeout, context: context)
    }

    private func scheduleHeaderCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        headerDeadline = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.headerDeadline = nil
            guard let since = handler.waitingSince else { return }  // a request is in progress: re-armed at its end
            let due = since + handler.environment.headerTimeout
            if NIODeadline.now() >= due {
                context.close(promise: nil)
            } else {
                handler.scheduleHeaderCheck(at: due, context: context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        defer { reading = false }
        switch unwrapInboundIn(data) {
        case .head(let head):
            waitingSince = nil
            begin(head: head, context: context)
        case .body(let body):
            record.requestBytes += body.readableBytes
            keepForReplay(.body(.byteBuffer(body)), size: body.readableBytes)
            switch state {
            case .connecting(let head, var pending, let ended):
                pending.append(.body(.byteBuffer(body)))
                state = .connecting(head: head, pending: pending, ended: ended)
            case .forwarding(let upstream, _):
                upstream.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
                flushUpstreamSoon(upstream)
            case .idle, .discarding:
                break
            }
        case .end(let trailers):
            keepForReplay(.end(trailers), size: 0)
            replay?.complete = true
            sendMirrors(context: context)
            switch state {
            case .connecting(let head, var pending, _):
                pending.append(.end(trailers))
                state = .connecting(head: head, pending: pending, ended: true)
            case .forwarding(let upstream, _):
                upstream.writeAndFlush(HTTPClientRequestPart.end(trailers), promise: nil)
                if pendingUpstreamFlush === upstream { pendingUpstreamFlush = nil }
                state = .forwarding(upstream: upstream, ended: true)
            case .discarding:
                finishLocal(context: context)
            case .idle:
                break
            }
        }
    }

    private func begin(head: HTTPRequestHead, context: ChannelHandlerContext) {
        requestSerial &+= 1
        triedEndpoints = []
        replay = nil
        backend = nil
        record = RequestRecord(method: head.method.rawValue, path: head.uri, authority: head.headers["host"].first ?? "")
        record.protocolName = head.version.major == 2 ? "HTTP/2" : "HTTP/1.1"
        keepAlive = head.isKeepAlive
        record.userAgent = head.headers.first(name: "user-agent")
        record.forwardedFor = head.headers.first(name: "x-forwarded-for")
        record.requestID = head.headers["x-request-id"].first ?? RequestRecord.newRequestID()
        record.peerIdentity = environment.peerIdentity
        record.peerIP = environment.peerIP
        responded = false
        let waypoint = environment.state()
        // Dot segments and escaped unreserved characters are resolved before policy and routing see the path
        // (Istio's default normalisation), so `/a/../b` or `/%2E%2E/b` cannot slip past a rule on `/b`.
        guard let target = Self.normalizer.normalize(head.uri) else {
            record.responseCodeDetails = "invalid_request_target"
            return answer(400, flag: "-", body: "malformed request target\n", context: context)
        }
        if let policies = waypoint.policies {
            let decision = policies.evaluate(requestFacts(head: head, path: target.path))
            if !decision.isAllowed {
                record.denial = "\(decision)"
                record.responseCodeDetails = decision.responseCodeDetails ?? "rbac_access_denied"
                return answer(
                    Decision.deniedHTTPStatus, flag: "-", body: Decision.deniedHTTPBody, context: context
                )
            }
        }
        let request = RouteRequest(
            method: record.method, path: target.requestTarget, authority: record.authority,
            headers: head.headers.map { HTTPHeaderField($0.name, $0.value) }
        )
        var generator = BufferedRandom()
        let plan = RequestPlanner(state: waypoint, service: environment.service, port: environment.port)
            .plan(request, using: &generator)
        self.plan = plan
        record.route = plan.route?.description
        record.originalPath = plan.originalPath
        let limits = waypoint.routing.rateLimits.limits(
            for: .init(
                waypointNamespace: waypoint.gateway?.namespace ?? "", waypointName: waypoint.gateway?.name ?? "",
                service: RouteParent(namespace: environment.service.namespace, name: environment.service.name, port: environment.port),
                route: plan.route?.rateLimitRoute
            )
        )
        if let (limit, reset) = environment.rateLimiter.refuse(limits) {
            record.responseCodeDetails = "local_rate_limited"
            return answer(
                LocalRateLimit.refusalStatusCode, flag: LocalRateLimit.responseFlag, body: LocalRateLimit.refusalBody,
                headers: limit.refusalHeaders(resetAfter: reset).map { ($0.name, $0.value) }, context: context
            )
        }
        if let limit = plan.timeout {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timeout = context.eventLoop.scheduleTask(in: Self.timeAmount(limit)) {
                let (handler, context) = loopBound.value
                handler.timedOut(context: context)
            }
        }
        guard case .forward(let cluster) = plan.action else {
            guard let delay = plan.delay else { return respond(plan, context: context) }
            // A delayed local answer (fault abort after a fault delay): the request is read meanwhile.
            state = .connecting(head: HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri), pending: [], ended: false)
            return afterFaultDelay(delay, context: context) { handler, context in handler.respond(plan, context: context) }
        }
        guard environment.upstreams.admitRequest(cluster) else {
            record.responseCodeDetails = "upstream_overflow"
            return answer(
                503, flag: "UO", body: "upstream overflow: \(cluster.name) is at its request limit\n",
                headers: [("x-envoy-overloaded", "true")], context: context
            )
        }
        admitted = cluster
        if let hashing = cluster.settings.loadBalancer?.consistentHash {
            let sourceIP = environment.peerIP.map { "\($0)" }
            let outcome = ConsistentHashKey(hashing.key).evaluate(plan.request, sourceIP: sourceIP, using: &generator)
            requestHash = outcome.hash
            generatedCookie = outcome.generatedCookie?.setCookie
        }
        var outgoing = HTTPRequestHead(version: .http1_1, method: head.method, uri: plan.request.path)
        let dropped = environment.version == .http2 ? Self.hopByHopAndFraming : Self.hopByHop
        for field in plan.request.headers where !dropped.contains(field.name.lowercased()) {
            outgoing.headers.add(name: field.name, value: field.value)
        }
        if !plan.request.authority.isEmpty { outgoing.headers.replaceOrAdd(name: "host", value: plan.request.authority) }
        outgoing.headers.replaceOrAdd(name: "x-request-id", value: record.requestID)
        // The caller's trace (W3C, or B3 bridged to W3C) continues in the waypoint's span, whose context goes
        // upstream (Envoy's waypoint does the same); without a tracer configured, the headers pass through unchanged.
        let b3 = B3Bridge.inbound(head.headers)
        var caller = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(b3.headers, into: &caller, using: HTTPHeadersExtractor())
        let span = startSpan("\(cluster.service.hostname):\(cluster.port)/*", context: caller, ofKind: .client)
        span.attributes["http.request.method"] = record.method
        span.attributes["url.path"] = plan.request.path
        span.attributes["guid:x-request-id"] = record.requestID
        span.attributes["upstream_cluster"] = cluster.name
        InstrumentationSystem.instrument.inject(span.context, into: &outgoing.headers, using: HTTPHeadersInjector())
        if b3.style != .none { B3Bridge.outbound(&outgoing.headers, style: b3.style, caller: head.headers) }
        self.span = span
        record.upstreamCluster = cluster.name
        record.backendService = cluster.service
        replay = (outgoing, [], 0, false)
        backend = (cluster, waypoint.snapshot)
        retriesLeft = plan.retry.map { $0.isEnabled ? $0.attempts : 0 } ?? 0
        retryCount = 0
        state = .connecting(head: outgoing, pending: [], ended: false)
        if let delay = plan.delay {
            return afterFaultDelay(delay, context: context) { handler, context in handler.openUpstream(context: context) }
        }
        openUpstream(context: context)
    }

    /// Fault injection: waits `delay` (flag `DI`), then goes on, unless the request ended meanwhile (timeout,
    /// client gone).
    private func afterFaultDelay(
        _ delay: Duration, context: ChannelHandlerContext, then next: @escaping (HTTPProxyHandler, ChannelHandlerContext) -> Void
    ) {
        record.addFlag("DI")
        let loopBound = NIOLoopBound((self, context, next), eventLoop: context.eventLoop)
        let requestID = record.requestID
        context.eventLoop.scheduleTask(in: Self.timeAmount(delay)) {
            let (handler, context, next) = loopBound.value
            guard case .connecting = handler.state, handler.record.requestID == requestID else { return }
            next(handler, context)
        }
    }

    /// Writes the plan's local answer (no route, redirect, fault abort, undefined subset…).
    private func respond(_ plan: RequestPlan, context: ChannelHandlerContext) {
        guard case .respond(let local) = plan.action else { return }
        record.responseCodeDetails = local.details
        let ended: Bool
        if case .connecting(_, _, let done) = state { ended = done } else { ended = false }
        let delayed: Bool
        if case .connecting = state { delayed = true } else { delayed = false }
        if delayed { state = ended ? .idle : .discarding }
        answer(
            local.status, flag: local.flag, body: local.body, headers: local.headers.map { ($0.name, $0.value) },
            context: context, keepState: delayed
        )
    }

    private func openUpstream(context: ChannelHandlerContext) {
        guard let backend else { return }
        abandonOpen()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        attemptTimeout?.cancel()
        attemptTimeout = nil
        if let limit = plan?.retry?.perTryTimeout {
            // `perTryTimeout` (`backendRequest`): one attempt; when it passes, the attempt is retried if the policy
            // allows, else 504.
            let attempt = retryCount
            attemptTimeout = context.eventLoop.scheduleTask(in: Self.timeAmount(limit)) {
                let (handler, context) = loopBound.value
                guard handler.retryCount == attempt else { return }
                handler.attemptTimedOut(context: context)
            }
        }
        openCount &+= 1
        let opening = openCount
        let cluster = backend.cluster
        let upstreams = environment.upstreams
        let pendingID = upstreams.makePendingID()
        openInFlight = (cluster, pendingID)
        upstreams.open(
            cluster: cluster, snapshot: backend.snapshot, on: context.eventLoop,
            reuse: environment.version == .http1, hash: requestHash, tracked: true, pendingID: pendingID,
            avoiding: triedEndpoints
        ).hop(to: context.eventLoop).whenComplete { result in
            let (handler, context) = loopBound.value
            if handler.openInFlight?.1 == pendingID { handler.openInFlight = nil }
            guard handler.openCount == opening, case .connecting = handler.state else {
                // An attempt overtaken by a retry, a timeout or the client leaving: its stream is not used.
                if case .success(let upstream) = result {
                    upstream.channel.close(promise: nil)
                    upstreams.attemptFinished(cluster, endpoint: upstream.endpoint, result: nil)
                }
                return
            }
            handler.connected(result, context: context)
        }
    }

    private func keepForReplay(_ part: HTTPClientRequestPart, size: Int) {
        guard var kept = replay else { return }
        kept.bytes += size
        guard kept.bytes <= Self.replayLimit else {
            replay = nil  // too large to replay: this request is not retried
            return
        }
        kept.parts.append(part)
        replay = kept
    }

    /// Whether the current request may be tried again: the rule has a retry policy with attempts left, the
    /// client's request is complete and was small enough to keep, and nothing was sent to the client yet.
    private var canRetry: Bool {
        retriesLeft > 0 && !responded && (replay?.complete ?? false)
    }

    /// Takes a retry slot of the cluster's circuit breaker (`maxRetries`) for the request's first retry; `false`:
    /// the limit is reached and the request is not retried (the last answer goes to the client).
    private func admitRetry() -> Bool {
        guard !holdsRetrySlot else { return true }
        guard let cluster = admitted, environment.upstreams.admitRetry(cluster) else { return false }
        holdsRetrySlot = true
        return true
    }

    /// Reports the end of the attempt in flight, once: its endpoint's least-request count, and outlier detection.
    private func endAttempt(_ result: OutlierDetector.Result?) {
        guard let endpoint = attemptEndpoint, let cluster = admitted else { return }
        attemptEndpoint = nil
        environment.upstreams.attemptFinished(cluster, endpoint: endpoint, result: result)
    }

    /// Tries the request again after the rule's back-off (Envoy's default: jittered from 25 ms), possibly on
    /// another endpoint.
    private func retry(context: ChannelHandlerContext) {
        guard let kept = replay else { return }
        openCount &+= 1  // an open still in flight belongs to the attempt being abandoned
        abandonOpen()
        retriesLeft -= 1
        retryCount += 1
        record.retries = retryCount
        state = .connecting(head: kept.head, pending: kept.parts, ended: true)
        // Envoy: fully jittered exponential back-off from the policy's base (25 ms), at most ten times the base.
        var generator = BufferedRandom()
        let wait = Self.timeAmount(
            RetryBackoff.delay(forRetry: retryCount, base: plan?.retry?.backoff ?? .milliseconds(25), using: &generator)
        )
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let serial = requestSerial
        context.eventLoop.scheduleTask(in: wait) {
            let (handler, context) = loopBound.value
            // Only for this request: on a keep-alive connection the next one may be connecting by now.
            guard handler.requestSerial == serial, case .connecting = handler.state else { return }
            handler.openUpstream(context: context)
        }
    }

    /// Mirrors (RequestMirror, VirtualService `mirror`): a copy of the complete request (if it was small enough to
    /// keep) to each mirror cluster.
    private func sendMirrors(context: ChannelHandlerContext) {
        guard let plan, !plan.mirrors.isEmpty, let kept = replay, kept.complete, let backend else { return }
        for mirror in plan.mirrors {
            MirrorSender.send(
                head: kept.head, parts: kept.parts, cluster: mirror, snapshot: backend.snapshot,
                upstreams: environment.upstreams, version: environment.version, on: context.eventLoop
            )
        }
    }

    static let normalizer = PathNormalizer()

    /// What AuthorizationPolicy sees of a request: the caller (mTLS peer), the Service and port it addressed,
    /// method, host, normalised path and headers.
    private func requestFacts(head: HTTPRequestHead, path: String) -> RequestFacts {
        let service = environment.service
        let connection = ConnectionFacts(
            sourceIP: environment.peerIP ?? .v4(0), sourceIdentity: environment.peerIdentity,
            destinationIP: environment.destination.ip, destinationPort: environment.port,
            destinationNamespace: service.namespace, destinationLabels: service.labels, destinationName: service.uid
        )
        return RequestFacts(
            connection: connection, service: .init(service), method: head.method.rawValue,
            authority: head.headers["host"].first ?? "", path: path,
            headers: head.headers.map { (name: $0.name, value: $0.value) }
        )
    }

    /// Closes an upstream request channel and the HBONE stream under it.
    private func closeUpstream(_ channel: any Channel) {
        channel.close(promise: nil)
        if let transport = upstreamTransport, transport !== channel { transport.close(promise: nil) }
        upstreamTransport = nil
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    private func connected(_ result: Result<WaypointUpstreams.Upstream, any Error>, context: ChannelHandlerContext) {
        guard case .connecting(_, _, let ended) = state else {
            if case .success(let upstream) = result { upstream.channel.close(promise: nil) }
            return
        }
        switch result {
        case .failure(let error):
            // Only a real connect failure is retried; Envoy never retries an overflow (UO) or no healthy host (UH).
            let connectFailure = (error as? WaypointUpstreams.Failure).map { $0.flag == "UF" } ?? true
            if connectFailure, canRetry, plan?.retry?.retriesWithoutResponse(connectFailure: true) == true, admitRetry() {
                retry(context: context)
                return
            }
            let failure = error as? WaypointUpstreams.Failure
            let flag = failure?.flag ?? "UF"
            state = ended ? .idle : .discarding
            switch flag {
            case "UH": record.responseCodeDetails = "no_healthy_upstream"
            case "UO": record.responseCodeDetails = "upstream_overflow"
            default: record.responseCodeDetails = "upstream_reset_before_response_started{connection_failure}"
            }
            answer(
                503, flag: flag, body: "upstream connect error: \(error)\n",
                headers: failure?.overloaded == true ? [("x-envoy-overloaded", "true")] : [], context: context, keepState: true
            )
        case .success(let upstream):
            record.upstreamHost = upstream.endpoint
            record.upstreamIP = upstream.ip
            upstreamEndpoint = upstream.endpoint
            attemptEndpoint = upstream.endpoint
            triedEndpoints.insert(upstream.endpoint)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let transport = upstream.channel
            if upstream.reused, let relay = try? transport.pipeline.syncOperations.handler(type: UpstreamResponseRelay.self) {
                relay.downstream = loopBound
                send(on: transport, transport: transport, context: context)
                return
            }
            let opening = openCount
            environment.version.configureClient(on: transport, downstream: loopBound).hop(to: context.eventLoop).whenComplete {
                result in
                let (handler, context) = loopBound.value
                guard handler.openCount == opening, case .connecting = handler.state else {
                    // The attempt was overtaken (retry, timeout, client gone) while its stream was being set up.
                    transport.close(promise: nil)
                    return
                }
                switch result {
                case .success(let channel):
                    handler.send(on: channel, transport: transport, context: context)
                case .failure:
                    transport.close(promise: nil)
                    handler.state = ended ? .idle : .discarding
                    handler.answer(503, flag: "UF", body: "upstream setup failed\n", context: context, keepState: true)
                }
            }
        }
    }

    /// Sends the request (head and what arrived so far) on the upstream channel.
    private func send(on channel: any Channel, transport: any Channel, context: ChannelHandlerContext) {
        guard case .connecting(let head, let pending, let ended) = state else {
            transport.close(promise: nil)
            return
        }
        state = .forwarding(upstream: channel, ended: ended)
        upstreamTransport = transport
        sentUpstream = .now
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        for part in pending { channel.write(part, promise: nil) }
        if ended { channel.flush() } else { flushUpstreamSoon(channel) }
        _ = channel.setOption(.autoRead, value: true)
    }

    /// Flushes what was written upstream: at the end of the client's read burst when inside one (so a request's
    /// head and end leave in one TLS record and one write), at once otherwise.
    private func flushUpstreamSoon(_ channel: any Channel) {
        if reading {
            pendingUpstreamFlush = channel
        } else {
            channel.flush()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let channel = pendingUpstreamFlush {
            pendingUpstreamFlush = nil
            channel.flush()
        }
        context.fireChannelReadComplete()
    }

    // MARK: - Response (called by the relay on this loop)

    func upstreamResponse(_ part: HTTPClientResponsePart, from channel: any Channel, context: ChannelHandlerContext) {
        // Parts of an abandoned attempt (retried, timed out) are ignored.
        guard case .forwarding(let upstream, let ended) = state, upstream === channel else { return }
        switch part {
        case .head(var head):
            record.status = Int(head.status.code)
            record.responseCodeDetails = "via_upstream"
            upstreamKeepAlive = head.isKeepAlive
            if let sentUpstream {
                let elapsed = ContinuousClock.now - sentUpstream
                record.upstreamServiceTime = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            }
            let grpcStatus = head.headers.first(name: "grpc-status").flatMap { Int($0) }
            if plan?.retry?.retries(status: record.status, grpcStatus: grpcStatus) == true {
                if canRetry, admitRetry() {
                    endAttempt(.response(status: record.status))
                    // Retried: this answer is dropped; the upstream is closed after the state moved on.
                    retry(context: context)
                    closeUpstream(upstream)
                    return
                }
                if retryCount > 0 { record.addFlag("URX") }  // retries exhausted: the last answer goes to the client
            }
            if let plan, !plan.response.isNone {
                var fields = head.headers.map { HTTPHeaderField($0.name, $0.value) }
                plan.response.apply(to: &fields)
                head.headers = HTTPHeaders(fields.map { ($0.name, $0.value) })
            }
            if let time = record.upstreamServiceTime {
                head.headers.replaceOrAdd(name: "x-envoy-upstream-service-time", value: "\(time)")
            }
            if let generatedCookie { head.headers.add(name: "set-cookie", value: generatedCookie) }
            // Framing and connection headers belong to each hop (and are forbidden in HTTP/2): the encoder of the
            // client's side frames the body again.
            for name in Self.hopByHopAndFraming { head.headers.remove(name: name) }
            if !keepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
            responded = true
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: head.headers))), promise: nil)
        case .body(let body):
            record.responseBytes += body.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        case .end(let trailers):
            timeout?.cancel()
            attemptTimeout?.cancel()
            endAttempt(.response(status: record.status))
            // The state moves on first: ending the response can close the client's stream (HTTP/2) and closing
            // the upstream reports back, both synchronously.
            state = ended ? .idle : .discarding
            if ended { complete() }
            let close = !keepAlive  // read first: writing the end can start the next pipelined request
            let reusable =
                ended && upstreamKeepAlive && environment.version == .http1 && upstreamTransport === upstream
            let endpoint = upstreamEndpoint
            if reusable, let endpoint,
                let relay = try? upstream.pipeline.syncOperations.handler(type: UpstreamResponseRelay.self)
            {
                // Keep-alive upstream: the stream goes back to the pool for the next request to that endpoint.
                relay.downstream = nil
                relay.served += 1
                upstreamTransport = nil
                if let cluster = backend?.cluster {
                    environment.upstreams.release(upstream, endpoint: endpoint, cluster: cluster, served: relay.served)
                } else {
                    closeUpstream(upstream)
                }
            } else {
                closeUpstream(upstream)
            }
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            if close { context.close(promise: nil) }
        }
    }

    func upstreamClosed(_ channel: any Channel, context: ChannelHandlerContext) {
        guard case .forwarding(let upstream, let ended) = state, upstream === channel else { return }
        endAttempt(.localFailure)
        if responded {
            // The upstream ended mid-response: the client must not take a truncated body for a complete one.
            timeout?.cancel()
            attemptTimeout?.cancel()
            state = .idle
            record.addFlag("UC")
            complete()
            context.close(promise: nil)
            return
        }
        if canRetry, plan?.retry?.retriesWithoutResponse() == true, admitRetry() {
            // Reset before the response began (`reset`, `5xx`): tried again (the route timeout keeps running over
            // every try); this stream is already gone.
            retry(context: context)
            closeUpstream(upstream)
            return
        }
        timeout?.cancel()
        state = ended ? .idle : .discarding
        answer(503, flag: "UC", body: "upstream connect error or disconnect/reset before headers\n", context: context, keepState: true)
    }

    private func attemptTimedOut(context: ChannelHandlerContext) {
        switch state {
        case .connecting, .forwarding:
            endAttempt(.localFailure)
            if canRetry, plan?.retry?.retriesAfterTimeout == true, admitRetry() {
                var upstream: (any Channel)?
                if case .forwarding(let channel, _) = state { upstream = channel }
                retry(context: context)
                if let upstream { closeUpstream(upstream) }
                return
            }
            if retryCount > 0 { record.addFlag("URX") }
            timedOut(context: context)
        case .idle, .discarding:
            break
        }
    }

    private func timedOut(context: ChannelHandlerContext) {
        switch state {
        case .connecting(_, _, let ended), .forwarding(_, let ended):
            var upstream: (any Channel)?
            if case .forwarding(let channel, _) = state { upstream = channel }
            // The state moves on before the upstream closes: its close is reported back synchronously.
            endAttempt(.localFailure)
            abandonOpen()
            state = ended ? .idle : .discarding
            defer { if let upstream { closeUpstream(upstream) } }
            if responded {
                record.addFlag("UT")
                complete()
                context.close(promise: nil)
                return
            }
            record.responseCodeDetails = "upstream_response_timeout"
            answer(504, flag: "UT", body: "upstream request timeout\n", context: context, keepState: true)
        case .idle, .discarding:
            break
        }
    }

    // MARK: - Local answers

    private func answer(
        _ status: Int, flag: String, body: String, headers: [(String, String)] = [], context: ChannelHandlerContext,
        keepState: Bool = false
    ) {
        timeout?.cancel()
        attemptTimeout?.cancel()
        record.status = status
        record.addFlag(flag)
        var fields = HTTPHeaders(headers)
        if !keepAlive { fields.add(name: "connection", value: "close") }
        fields.add(name: "content-length", value: "\(body.utf8.count)")
        if !fields.contains(name: "content-type") { fields.add(name: "content-type", value: "text/plain") }
        record.responseBytes += body.utf8.count
        // The state moves on before the answer is written: ending it can close an HTTP/2 stream (and report
        // channelInactive) or start the next pipelined request, synchronously.
        responded = true
        if !keepState { state = .discarding }
        if case .idle = state { complete() }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let close = !keepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if close { context.close(promise: nil) }
    }

    private func finishLocal(context: ChannelHandlerContext) {
        state = .idle
        complete()
    }

    private func complete() {
        if let span {
            span.attributes["http.response.status_code"] = record.status
            span.attributes["response_flags"] = record.flags
            if let host = record.upstreamHost { span.attributes["upstream_host"] = host }
            if record.status >= 500 || record.status == 0 { span.setStatus(SpanStatus(code: .error)) }
            span.end()
            self.span = nil
        }
        environment.record(record)
        record = RequestRecord()
        plan = nil
        releaseRequest()
        if let context = currentContext { armHeaderDeadline(context: context) }
    }

    /// Leaves the cluster's pending queue if the open in flight is waiting there.
    private func abandonOpen() {
        guard let (cluster, id) = openInFlight else { return }
        openInFlight = nil
        openCount &+= 1  // the cancelled open fails synchronously: its completion must be seen as stale
        environment.upstreams.cancelPending(cluster, id: id)
    }

    /// Gives back what the request held of its cluster (circuit breaker request and retry slots).
    private func releaseRequest() {
        abandonOpen()
        endAttempt(nil)
        if let cluster = admitted { environment.upstreams.finishRequest(cluster, retried: holdsRetrySlot) }
        admitted = nil
        holdsRetrySlot = false
        requestHash = nil
        generatedCookie = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        attemptTimeout?.cancel()
        headerDeadline?.cancel()
        headerDeadline = nil
        if case .discarding = state, responded {
            // Answered locally before the request was read to its end (an HTTP/2 stream closes with the answer):
            // the request is still logged and counted.
            currentContext = nil
            complete()
        }
        releaseRequest()
        if case .forwarding(let upstream, _) = state { closeUpstream(upstream) }
        state = .idle
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "upgrade", "trailer"]
    /// The same plus `transfer-encoding`: dropped where the next hop frames the body itself.
    static let hopByHopAndFraming = hopByHop.union(["transfer-encoding"])
}

@available(*, unavailable)
extension HTTPProxyHandler: Sendable {}

/// The last handler of an upstream stream: hands each response part to the client's ``HTTPProxyHandler`` (same
/// event loop).
final class UpstreamResponseRelay: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// The request handler this stream currently answers; `nil` while the stream sits idle in the pool.
    var downstream: NIOLoopBound<(HTTPProxyHandler, ChannelHandlerContext)>?
    /// Responses completed on this stream (`maxRequestsPerConnection`).
    var served = 0

    init(downstream: NIOLoopBound<(HTTPProxyHandler, ChannelHandlerContext)>) {
        self.downstream = downstream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let (handler, downstreamContext) = downstream?.value else {
            context.close(promise: nil)  // an idle stream has nothing to say: close it
            return
        }
        handler.upstreamResponse(unwrapInboundIn(data), from: context.channel, context: downstreamContext)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The endpoint closed an idle keep-alive stream: it must not be handed to the next request.
        if downstream == nil, case ChannelEvent.inputClosed? = event as? ChannelEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let (handler, downstreamContext) = downstream?.value {
            handler.upstreamClosed(context.channel, context: downstreamContext)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamResponseRelay: Sendable {}
