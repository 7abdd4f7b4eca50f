// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP2
import NIOSSL
import WeftIdentity
import WeftModel
import WeftTLS

/// Sets up the pipeline of an accepted HBONE connection (port 15008): TLS 1.3 with a required client
/// certificate verified by ``PeerVerifier``, ALPN `h2` enforced, HTTP/2 with HBONE's windows, a PING keepalive,
/// and one ``HBONEServerStreamHandler`` per stream.
///
/// Every rejected connection is logged once, with a reason an operator can act on.
public enum HBONEServer {
    public static func configure(
        channel: any Channel,
        context: NIOSSLContext,
        verifier: PeerVerifier,
        router: any HBONEInboundRouter,
        configuration: HBONEConfiguration,
        logger: Logger
    ) throws {
        let sync = channel.pipeline.syncOperations
        let report = RejectionReporter(
            logger: logger, remote: channel.remoteAddress, local: channel.localAddress, eventLoop: channel.eventLoop,
            onReject: { code in router.connectionRejected(code: code) }
        )
        let callback = MeshTLS.verificationCallback(verifier: verifier, expected: nil) { error in
            report.reject("client certificate rejected: \(error.reason)", code: error.code.description)
        }
        try sync.addHandler(NIOSSLServerHandler(context: context, customVerificationCallbackWithMetadata: callback))
        // A client that never finishes the handshake (slowloris, port scanner) must not hold a socket forever.
        let handshakeDone = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
        let timeout = channel.eventLoop.scheduleTask(in: configuration.connectTimeout) { [weak channel] in
            guard !handshakeDone.value, let channel else { return }
            report.reject("TLS handshake not completed within \(configuration.connectTimeout)", code: "handshake_timeout")
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in timeout.cancel() }
        try sync.addHandler(
            ALPNEnforcer { outcome, handlerContext in
                switch outcome {
                case .wrongProtocol(let proto):
                    report.reject(
                        "client did not negotiate ALPN h2 (got \(proto.map { "'\($0)'" } ?? "none")); HBONE is HTTP/2 only",
                        code: "alpn"
                    )
                case .negotiated:
                    handshakeDone.value = true
                    timeout.cancel()
                    guard let identity = MeshTLS.peerIdentity(of: handlerContext.pipeline.syncOperations) else {
                        report.reject("no SPIFFE identity in the verified client certificate", code: "identity")
                        handlerContext.close(promise: nil)
                        return
                    }
                    let peer = HBONEPeer(
                        identity: identity,
                        remoteAddress: handlerContext.channel.remoteAddress,
                        localAddress: handlerContext.channel.localAddress
                    )
                    do {
                        try addHTTP2(
                            to: handlerContext.channel, peer: peer, router: router, configuration: configuration,
                            logger: logger
                        )
                    } catch {
                        handlerContext.close(promise: nil)
                    }
                }
            }
        )
        try sync.addHandler(ConnectionErrorHandler(report: report))
    }

    private static func addHTTP2(
        to channel: any Channel,
        peer: HBONEPeer,
        router: any HBONEInboundRouter,
        configuration: HBONEConfiguration,
        logger: Logger
    ) throws {
        let sync = channel.pipeline.syncOperations
        let errorHandler = try sync.handler(type: ConnectionErrorHandler.self)
        try sync.addHandler(WriteCoalescer(), position: .before(errorHandler))
        try sync.addHandler(PlaintextChunker(), position: .before(errorHandler))
        _ = try sync.configureHTTP2Pipeline(
            mode: .server,
            connectionConfiguration: configuration.connectionConfiguration(server: true),
            streamConfiguration: configuration.streamConfiguration,
            position: .before(errorHandler)
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(
                    HBONEServerStreamHandler(peer: peer, router: router, logger: logger)
                )
            }
        }
        try sync.addHandler(
            KeepaliveHandler(interval: configuration.keepaliveInterval, timeout: configuration.keepaliveTimeout) {},
            position: .before(errorHandler)
        )
    }
}

/// Logs the first reason a connection was refused, once, and keeps later errors of the same connection quiet.
final class RejectionReporter: Sendable {
    private let logger: Logger
    private let remote: String
    private let local: String
    // The verification callback reports from a Swift task, not the event loop: the flag must be thread-safe.
    private let reported = NIOLockedValueBox(false)
    private let onReject: @Sendable (String) -> Void

    init(
        logger: Logger, remote: SocketAddress?, local: SocketAddress?, eventLoop: any EventLoop,
        onReject: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.logger = logger
        self.onReject = onReject
        self.remote = remote.map { "\($0)" } ?? "-"
        self.local = local.map { "\($0)" } ?? "-"
    }

    func reject(_ reason: String, code: String) {
        let first = reported.withLockedValue { reported in
            defer { reported = true }
            return !reported
        }
        guard first else { return }
        onReject(code)
        logger.warning(
            "hbone connection rejected",
            metadata: ["reason": "\(reason)", "code": "\(code)", "peer_addr": "\(remote)", "local_addr": "\(local)"]
        )
    }

    var hasReported: Bool { reported.withLockedValue { $0 } }
}

/// The last handler of an HBONE connection: turns low-level errors into one operator-facing log line and closes.
final class ConnectionErrorHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    private let report: RejectionReporter

    init(report: RejectionReporter) {
        self.report = report
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let reason = Self.explain(error) {
            report.reject(reason.0, code: reason.1)
        }
        context.close(promise: nil)
    }

    /// Maps TLS and HTTP/2 errors to words; `nil` for benign ones (a peer closing without close_notify).
    static func explain(_ error: any Error) -> (String, String)? {
        if let ssl = error as? NIOSSLError {
            switch ssl {
            case .uncleanShutdown:
                return nil
            case .handshakeFailed(let inner):
                let text = "\(inner)"
                if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST")
                    || text.contains("HTTPS_PROXY_REQUEST")
                    || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("UNEXPECTED_RECORD")
                {
                    return ("not a TLS client hello: plaintext sent to the HBONE port", "plaintext")
                }
                if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
                    return ("client presented no certificate; HBONE requires mutual TLS", "no_client_cert")
                }
                if text.contains("UNSUPPORTED_PROTOCOL") || text.contains("TLSV1_ALERT_PROTOCOL_VERSION") {
                    return ("client does not speak TLS 1.3", "tls_version")
                }
                if text.contains("CERTIFICATE_VERIFY_FAILED") {
                    return ("client certificate verification failed", "verify")
                }
                return ("TLS handshake failed: \(text)", "tls")
            default:
                return ("TLS error: \(ssl)", "tls")
            }
        }
        if error is NIOHTTP2Errors.BadClientMagic {
            return ("client sent no HTTP/2 preface", "h2_preface")
        }
        return ("connection error: \(error)", "io")
    }
}
