// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import NIOSSL
import WeftIdentity
import WeftModel
import WeftTLS

/// Server TLS contexts per identity, rebuilt when the identity's certificate rotates. New connections get the
/// new certificate; established ones keep the session they negotiated.
final class TLSContextCache: Sendable {
    private let contexts = NIOLockedValueBox<[SPIFFEID: (serial: String, context: NIOSSLContext)]>([:])
    private let identities: IdentityManager
    private let keyExchange: MeshTLS.KeyExchange

    init(identities: IdentityManager, keyExchange: MeshTLS.KeyExchange = .hybrid) {
        self.identities = identities
        self.keyExchange = keyExchange
    }

    func serverContext(for identity: SPIFFEID) throws -> NIOSSLContext {
        let certificate = try identities.certificate(for: identity)
        if let cached = contexts.withLockedValue({ $0[identity] }), cached.serial == certificate.serial {
            return cached.context
        }
        let context = try MeshTLS.serverContext(presenting: certificate, keyExchange: keyExchange)
        contexts.withLockedValue { $0[identity] = (certificate.serial, context) }
        return context
    }
}
