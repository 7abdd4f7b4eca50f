// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOTLS

/// Closes a TLS connection whose handshake did not negotiate `h2`.
///
/// NIOSSL lets a handshake succeed when client and server share no application protocol (or the client offers
/// none), so HBONE must enforce ALPN itself. Also reports the outcome of the handshake once, so the caller can
/// log it. Removes itself after the handshake.
public final class ALPNEnforcer: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    /// The outcome of a handshake, as seen from this side.
    public enum Outcome: Sendable {
        case negotiated
        case wrongProtocol(String?)
    }

    private let onOutcome: (Outcome, ChannelHandlerContext) -> Void

    /// - Parameter onOutcome: called once, on the channel's event loop, before the handler acts.
    public init(onOutcome: @escaping (Outcome, ChannelHandlerContext) -> Void) {
        self.onOutcome = onOutcome
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            if negotiated == MeshTLS.alpn {
                onOutcome(.negotiated, context)
                context.fireUserInboundEventTriggered(event)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            } else {
                onOutcome(.wrongProtocol(negotiated), context)
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension ALPNEnforcer: Sendable {}
