// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOPosix
import WeftHBONE
import WeftModel
import WeftPolicy
import WeftTelemetry

/// The node's answer to inbound HBONE streams: ``InboundPolicy`` decides, a plain TCP connection to the local
/// workload carries the bytes.
struct InboundRouter: HBONEInboundRouter {
    let context: NodeContext
    var dialer: any UpstreamDialer = DirectDialer()
    /// Connect to the application from the caller's address (in-pod mode, IP_TRANSPARENT).
    var preserveSource = false

    func route(_ request: HBONERequest, from peer: HBONEPeer) -> HBONEInboundDecision {
        let listenerIP = peer.localAddress?.ipAddress.flatMap { IPAddress($0) }
        switch context.inboundPolicy.check(authority: request.authority, listenerIP: listenerIP, snapshot: context.snapshot) {
        case .reject(let status, let reason):
            return .reject(status: status, reason: reason)
        case .allow(let workload):
            guard let facts = Self.facts(peer: peer, destination: request.authority, workload: workload) else {
                return .reject(status: 400, reason: "the peer's address is unknown; cannot apply AuthorizationPolicy")
            }
            let decision = context.authorize(facts)
            if !decision.isAllowed {
                // ztunnel answers a policy denial with 401; the caller's node resets the application's connection.
                return .reject(status: 401, reason: "\(decision)")
            }
            do {
                return .connect(try SocketAddress(ipAddress: "\(request.authority.ip)", port: Int(request.authority.port)))
            } catch {
                return .reject(status: 400, reason: "authority \(request.authority) is not a usable address")
            }
        }
    }

    /// What AuthorizationPolicy sees of an inbound HBONE stream: the peer's address and certificate identity,
    /// and the workload and port it asked for.
    static func facts(peer: HBONEPeer, destination: HostPort, workload: Workload) -> ConnectionFacts? {
        guard let sourceIP = peer.remoteAddress?.ipAddress.flatMap({ IPAddress($0) }) else { return nil }
        return ConnectionFacts(
            sourceIP: sourceIP, sourceIdentity: peer.identity, destinationIP: destination.ip,
            destinationPort: destination.port, destination: workload
        )
    }

    func connect(to address: SocketAddress, for peer: HBONEPeer, on eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
        let tracker = context.tracker
        let source = preserveSource ? peer.remoteAddress?.ipAddress.flatMap { IPAddress($0) } : nil
        return dialer.connect(to: address, from: source, on: eventLoop, timeout: .seconds(10)) { channel in
            channel.setOption(.autoRead, value: false)
        }.map { [context] channel in
            tracker.track(channel)
            let snapshot = context.snapshot
            if let ip = address.ipAddress.flatMap({ IPAddress($0) }), let port = address.port,
                let workload = snapshot.workloadsByIP[ip],
                let facts = Self.facts(peer: peer, destination: HostPort(ip: ip, port: UInt16(port)), workload: workload)
            {
                context.authorized.add(facts, workload: workload, channel: channel)
            }
            return channel
        }
    }

    func streamEstablished(_ record: HBONEStreamRecord) {
        context.counters.mtlsAccepted()
        context.telemetry.opened(TrafficReports.inbound(record, snapshot: context.snapshot, cluster: context.telemetry.cluster))
    }

    func streamFinished(_ record: HBONEStreamRecord) {
        let telemetry = context.telemetry
        var report = TrafficReports.inbound(record, snapshot: context.snapshot, cluster: telemetry.cluster)
        report.duration = .now - record.started
        guard record.status == 200 else {
            // Rejections were logged with their reason; they are counted and access-logged here.
            report.error = "HBONE \(record.status): \(record.reason ?? "-")"
            let (flag, reason): (ConnectionReport.ResponseFlag?, String) =
                switch record.status {
                case 401, 403: (.deny, "policy_denied")
                case 503: (.connect, "upstream_connect")
                default: (nil, "bad_request")
                }
            report.responseFlag = flag
            telemetry.failed(report, reason: reason)
            return
        }
        report.requestBytes = record.bytesFromPeer
        report.responseBytes = record.bytesToPeer
        if !record.clean { report.error = "connection reset before both directions finished" }
        telemetry.closed(report)
    }

    func connectionRejected(code: String) {
        context.telemetry.rejected("tls_\(code)")
    }
}
