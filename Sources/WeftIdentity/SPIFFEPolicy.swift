// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import SwiftASN1
import WeftModel
import X509

/// A swift-certificates policy for mesh leaves: exactly one SPIFFE URI SAN, in an accepted trust domain and,
/// when given, one of the expected identities.
///
/// It declares subjectAlternativeName and extendedKeyUsage as handled critical extensions: Istio-shaped leaves
/// mark the SAN critical (their subject is empty), and `RFC5280Policy` alone rejects such a chain with no reason.
public struct SPIFFEPolicy: VerifierPolicy, Sendable {
    public let trustDomains: Set<String>
    public let expected: Set<SPIFFEID>?

    public init(trustDomains: Set<String>, expected: Set<SPIFFEID>? = nil) {
        self.trustDomains = trustDomains
        self.expected = expected
    }

    public var verifyingCriticalExtensions: [ASN1ObjectIdentifier] {
        [.X509ExtensionID.subjectAlternativeName, .X509ExtensionID.extendedKeyUsage]
    }

    public mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        switch Self.check(leaf: chain.leaf, trustDomains: trustDomains, expected: expected) {
        case .success: return .meetsPolicy
        case .failure(let error):
            let reason = error.reason
            return .failsToMeetPolicy(reason: reason)
        }
    }

    /// The SPIFFE checks on their own, so the verifier can report them with a precise code.
    static func check(
        leaf: Certificate,
        trustDomains: Set<String>,
        expected: Set<SPIFFEID>?
    ) -> Result<SPIFFEID, IdentityError> {
        let identity: SPIFFEID
        switch spiffeID(of: leaf) {
        case .success(let id): identity = id
        case .failure(let error): return .failure(error)
        }
        guard trustDomains.contains(identity.trustDomain) else {
            return .failure(
                IdentityError(
                    .trustDomainMismatch,
                    "peer \(identity) is in trust domain '\(identity.trustDomain)', this mesh trusts \(trustDomains.sorted().joined(separator: ", "))"
                )
            )
        }
        if let expected, !expected.contains(identity) {
            return .failure(
                IdentityError(
                    .identityMismatch,
                    "peer presented \(identity), expected \(expected.sorted().map(\.uri).joined(separator: " or "))"
                )
            )
        }
        return .success(identity)
    }

    /// The single SPIFFE URI SAN of a leaf.
    public static func spiffeID(of leaf: Certificate) -> Result<SPIFFEID, IdentityError> {
        let sans: SubjectAlternativeNames?
        do {
            sans = try leaf.extensions.subjectAlternativeNames
        } catch {
            return .failure(IdentityError(.noSPIFFEIdentity, "certificate has a malformed subjectAltName: \(error)"))
        }
        let uris = (sans.map(Array.init) ?? []).compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("spiffe://") { return uri }
            return nil
        }
        guard uris.count == 1, let uri = uris.first else {
            return .failure(
                IdentityError(
                    .noSPIFFEIdentity,
                    uris.isEmpty
                        ? "certificate has no spiffe:// URI SAN; it is not a mesh workload certificate"
                        : "certificate has \(uris.count) spiffe:// URI SANs; exactly one is allowed"
                )
            )
        }
        do {
            return .success(try SPIFFEID(parsing: uri))
        } catch {
            return .failure(IdentityError(.noSPIFFEIdentity, error.description))
        }
    }
}
