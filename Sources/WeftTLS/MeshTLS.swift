// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import WeftIdentity
import WeftModel
import X509

/// Builds the TLS side of HBONE: TLS 1.3 only, mutual authentication with workload certificates, ALPN `h2`,
/// no SNI, and peer verification by ``PeerVerifier`` (chain, validity, SPIFFE SAN, trust domain, identity).
///
/// NIOSSL's custom verification callback *replaces* BoringSSL's chain checks, so every check happens in
/// ``PeerVerifier``; this type only wires it in.
public enum MeshTLS {
    /// The one application protocol HBONE speaks.
    public static let alpn = "h2"

    /// The TLS 1.3 key-exchange groups offered and accepted.
    public enum KeyExchange: String, Sendable, CaseIterable {
        /// X25519MLKEM768 first (post-quantum hybrid, as current rustls and BoringSSL prefer), then X25519 and P-256
        /// for peers without it.
        case hybrid
        /// X25519 then P-256 only: a cheaper handshake, no post-quantum protection.
        case classic

        var curves: [NIOTLSCurve] {
            switch self {
            case .hybrid: [.x25519_MLKEM768, .x25519, .secp256r1]
            case .classic: [.x25519, .secp256r1]
            }
        }
    }

    /// A server context presenting `certificate`. Client certificates are required.
    public static func serverContext(
        presenting certificate: WorkloadCertificate, keyExchange: KeyExchange = .hybrid
    ) throws -> NIOSSLContext {
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try sources(certificate),
            privateKey: .privateKey(try key(certificate))
        )
        Self.harden(&config)
        config.curves = keyExchange.curves
        // `.noHostnameVerification` makes BoringSSL request *and require* a client certificate; the custom
        // callback then does the real verification.
        config.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: config)
    }

    /// A client context presenting `certificate`.
    public static func clientContext(
        presenting certificate: WorkloadCertificate, keyExchange: KeyExchange = .hybrid
    ) throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateChain = try sources(certificate)
        config.privateKey = .privateKey(try key(certificate))
        Self.harden(&config)
        config.curves = keyExchange.curves
        config.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: config)
    }

    private static func harden(_ config: inout TLSConfiguration) {
        config.minimumTLSVersion = .tlsv13
        config.maximumTLSVersion = .tlsv13
        config.applicationProtocols = [alpn]
        // TLS 1.3 suites are not configurable in BoringSSL (its cipher list applies to TLS <= 1.2 only, and a
        // list without such suites aborts); it offers AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
    }

    private static func sources(_ certificate: WorkloadCertificate) throws -> [NIOSSLCertificateSource] {
        // The leaf and any intermediates; the root is not sent (the peer has it).
        let ders = try certificate.chainDER()
        return try ders.dropLast().map { .certificate(try NIOSSLCertificate(bytes: $0, format: .der)) }
    }

    private static func key(_ certificate: WorkloadCertificate) throws -> NIOSSLPrivateKey {
        try NIOSSLPrivateKey(bytes: Array(certificate.privateKeyPEM.utf8), format: .pem)
    }

    /// The verification callback for one connection. On failure the reason is handed to `onFailure` (for a
    /// single operator-facing log line), and the handshake fails.
    public static func verificationCallback(
        verifier: PeerVerifier,
        expected: Set<SPIFFEID>?,
        onFailure: @escaping @Sendable (IdentityError) -> Void
    ) -> NIOSSLCustomVerificationCallbackWithMetadata {
        { presented, promise in
            let ders: [[UInt8]]
            do {
                ders = try presented.map { try $0.toDERBytes() }
            } catch {
                onFailure(IdentityError(.untrustedChain, "peer certificate could not be read: \(error)"))
                promise.succeed(.failed)
                return
            }
            // Verified on the handshake's own event loop (no hop to the global pool and back).
            Task(executorPreference: EventLoopTaskExecutor(promise.futureResult.eventLoop)) {
                let outcome: NIOSSLVerificationResultWithMetadata
                do {
                    let chain = try ders.map { try Certificate(derEncoded: $0) }
                    _ = try await verifier.verify(chain: chain, expected: expected)
                    // Return the presented chain as validated: the verifier has checked it leads to our root.
                    let validated = try ders.map { try NIOSSLCertificate(bytes: $0, format: .der) }
                    outcome = .certificateVerified(VerificationMetadata(ValidatedCertificateChain(validated)))
                } catch let error as IdentityError {
                    onFailure(error)
                    outcome = .failed
                } catch {
                    onFailure(IdentityError(.untrustedChain, "peer certificate is malformed: \(error)"))
                    outcome = .failed
                }
                promise.succeed(outcome)
            }
        }
    }

    /// The SPIFFE identity of the peer of a TLS channel whose handshake completed, read from the validated chain.
    public static func peerIdentity(of pipeline: ChannelPipeline.SynchronousOperations) -> SPIFFEID? {
        guard let chain = try? pipeline.nioSSL_peerValidatedCertificateChain(), let leaf = chain.first,
            let der = try? leaf.toDERBytes(), let certificate = try? Certificate(derEncoded: der)
        else { return nil }
        return try? SPIFFEPolicy.spiffeID(of: certificate).get()
    }
}
