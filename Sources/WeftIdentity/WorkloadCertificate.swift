// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Crypto
import Foundation
import SwiftASN1
import WeftModel
import X509

/// A workload's leaf certificate, its private key (kept in memory only) and the chain up to the root.
public struct WorkloadCertificate: Sendable {
    public let identity: SPIFFEID
    public let leaf: Certificate
    /// Issuers above the leaf, root last.
    public let issuers: [Certificate]
    public let privateKey: P256.Signing.PrivateKey

    public init(identity: SPIFFEID, leaf: Certificate, issuers: [Certificate], privateKey: P256.Signing.PrivateKey) {
        self.identity = identity
        self.leaf = leaf
        self.issuers = issuers
        self.privateKey = privateKey
    }

    /// Generates a fresh key on this node and has `ca` sign it.
    public static func issue(
        for identity: SPIFFEID,
        by ca: CertificateAuthority,
        lifetime: TimeInterval,
        now: Date = Date()
    ) throws(IdentityError) -> WorkloadCertificate {
        let key = P256.Signing.PrivateKey()
        let leaf = try ca.issue(identity: identity, publicKey: key.publicKey, now: now, lifetime: lifetime)
        return WorkloadCertificate(identity: identity, leaf: leaf, issuers: [ca.certificate], privateKey: key)
    }

    public var notBefore: Date { leaf.notValidBefore }
    public var notAfter: Date { leaf.notValidAfter }

    /// When this certificate should be replaced: half-way through its life, as ztunnel does.
    public var refreshAt: Date { notBefore.addingTimeInterval(notAfter.timeIntervalSince(notBefore) / 2) }

    /// The serial number in hex, for logs and `/config_dump` (never the key).
    public var serial: String { leaf.serialNumber.description }

    /// DER of the leaf, then the issuers (root last), for the TLS layer.
    public func chainDER() throws -> [[UInt8]] {
        var serializer = DER.Serializer()
        try serializer.serialize(leaf)
        var result = [serializer.serializedBytes]
        for issuer in issuers {
            var s = DER.Serializer()
            try s.serialize(issuer)
            result.append(s.serializedBytes)
        }
        return result
    }

    /// The key in PKCS#8 PEM, for the TLS layer only. Never log this.
    public var privateKeyPEM: String { privateKey.pemRepresentation }
}

extension WorkloadCertificate {
    /// The leaf in PEM.
    public func leafPEM() throws -> String { try leaf.serializeAsPEM().pemString + "\n" }
}

extension CertificateAuthority {
    /// The root certificate in PEM (public).
    public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString + "\n" }
}
