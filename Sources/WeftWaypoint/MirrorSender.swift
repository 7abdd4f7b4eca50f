// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOHTTP1
import WeftModel

/// RequestMirror: sends a copy of a request to a shadow backend and ignores the answer, as Envoy does (the
/// `Host` gets a `-shadow` suffix). The client's request is never delayed or failed by the mirror.
enum MirrorSender {
    static func send(
        head: HTTPRequestHead, parts: [HTTPClientRequestPart], cluster: UpstreamCluster,
        snapshot: MeshSnapshot, upstreams: WaypointUpstreams, version: HTTPVersionAdapter, on eventLoop: any EventLoop
    ) {
        var shadow = head
        if let host = shadow.headers["host"].first {
            let (name, portSuffix) = splitPort(host)
            shadow.headers.replaceOrAdd(name: "host", value: name + "-shadow" + portSuffix)
        }
        let request = shadow
        upstreams.open(cluster: cluster, snapshot: snapshot, on: eventLoop).whenSuccess { upstream in
            let transport = upstream.channel
            version.configureClientDiscardingResponses(on: transport).whenComplete { result in
                guard case .success(let channel) = result else {
                    transport.close(promise: nil)
                    return
                }
                channel.write(HTTPClientRequestPart.head(request), promise: nil)
                for part in parts { channel.write(part, promise: nil) }
                channel.flush()
                _ = channel.setOption(.autoRead, value: true)
                // A shadow that never answers must not hold a stream for long.
                channel.eventLoop.scheduleTask(in: .seconds(30)) { transport.close(promise: nil) }
                channel.closeFuture.whenComplete { _ in transport.close(promise: nil) }
            }
        }
    }

    /// `name` and `:port` (or "") of a Host header value.
    static func splitPort(_ host: String) -> (String, String) {
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]"), host[host.index(after: colon)...].allSatisfy(\.isNumber) {
            return (String(host[..<colon]), String(host[colon...]))
        }
        return (host, "")
    }
}

/// Reads and drops a mirrored request's response; closes once it has ended.
final class ResponseSink: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ResponseSink: Sendable {}
