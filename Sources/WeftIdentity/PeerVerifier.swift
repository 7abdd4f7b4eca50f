// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import WeftModel
@_spi(FixedExpiryValidationTime) import X509

/// Verifies a certificate chain presented by a mesh peer: full chain to a trusted root (signatures, CA
/// constraints, key usage), validity window of every certificate, the SPIFFE URI SAN, the trust domain and,
/// on the client side, the expected identity.
///
/// It is pure apart from the clock it is given, so it is tested without sockets; the TLS layer calls it from
/// NIOSSL's custom verification callback, which replaces BoringSSL's own chain checks entirely.
public struct PeerVerifier: Sendable {
    public let roots: [Certificate]
    public let trustDomains: Set<String>

    public init(roots: [Certificate], trustDomains: Set<String>) {
        self.roots = roots
        self.trustDomains = trustDomains
    }

    /// - Parameters:
    ///   - chain: the presented chain, leaf first.
    ///   - expected: identities the peer must have (client side); `nil` accepts any identity of the trust domain
    ///     (server side: *which* identity may connect is an authorization decision, made later).
    ///   - now: the validation time.
    /// - Returns: the peer's identity.
    public func verify(
        chain: [Certificate],
        expected: Set<SPIFFEID>? = nil,
        now: Date = Date()
    ) async throws(IdentityError) -> SPIFFEID {
        guard let leaf = chain.first else {
            throw IdentityError(.noCertificate, "peer presented no certificate")
        }
        // Precise reasons first: the verifier below would only say "could not validate".
        for (index, certificate) in chain.enumerated() {
            let what = index == 0 ? "peer certificate" : "issuer certificate #\(index)"
            if certificate.notValidAfter < now {
                throw IdentityError(.expired, "\(what) expired at \(Self.format(certificate.notValidAfter))")
            }
            if certificate.notValidBefore > now {
                throw IdentityError(.notYetValid, "\(what) is not valid before \(Self.format(certificate.notValidBefore))")
            }
        }
        let identity = try SPIFFEPolicy.check(leaf: leaf, trustDomains: trustDomains, expected: expected).get()

        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: now)
            SPIFFEPolicy(trustDomains: trustDomains, expected: expected)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(Array(chain.dropFirst())))
        switch result {
        case .validCertificate:
            return identity
        case .couldNotValidate(let failures):
            let reasons = failures.map { $0.policyFailureReason.description }
            throw IdentityError(
                .untrustedChain,
                reasons.isEmpty
                    ? "certificate of \(identity) is not signed by this mesh's root CA (issuer \(leaf.issuer))"
                    : "certificate of \(identity) rejected: \(reasons.joined(separator: "; "))"
            )
        }
    }

    static func format(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
