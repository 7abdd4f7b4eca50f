// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Crypto
import Foundation
import SwiftASN1
import Testing
import WeftIdentity
import WeftModel
import X509

@Suite("Peer verification")
struct PeerVerifierTests {
    let ca: CertificateAuthority
    let verifier: PeerVerifier

    init() throws {
        ca = try CertificateAuthority.create(trustDomain: "cluster.local")
        verifier = PeerVerifier(roots: [ca.certificate], trustDomains: ["cluster.local"])
    }

    @Test("a valid leaf verifies and yields its identity; the expected identity is enforced")
    func valid() async throws {
        let cert = try WorkloadCertificate.issue(for: client, by: ca, lifetime: 3600)
        #expect(try await verifier.verify(chain: [cert.leaf]) == client)
        #expect(try await verifier.verify(chain: [cert.leaf, ca.certificate], expected: [client]) == client)
        await #expect(throws: IdentityError(.identityMismatch, "")) {
            try await verifier.verify(chain: [cert.leaf], expected: [echo])
        }
    }

    @Test("expired and not-yet-valid leaves are rejected with the right code")
    func validity() async throws {
        let cert = try WorkloadCertificate.issue(for: client, by: ca, lifetime: 3600)
        await #expect(throws: IdentityError(.expired, "")) {
            try await verifier.verify(chain: [cert.leaf], now: Date().addingTimeInterval(7200))
        }
        await #expect(throws: IdentityError(.notYetValid, "")) {
            try await verifier.verify(chain: [cert.leaf], now: Date().addingTimeInterval(-3600))
        }
    }

    @Test("a leaf from another CA is untrusted")
    func otherCA() async throws {
        let rogue = try CertificateAuthority.create(trustDomain: "cluster.local")
        let cert = try WorkloadCertificate.issue(for: client, by: rogue, lifetime: 3600)
        await #expect(throws: IdentityError(.untrustedChain, "")) {
            try await verifier.verify(chain: [cert.leaf, rogue.certificate])
        }
    }

    @Test("another trust domain is rejected even when signed by our root")
    func otherTrustDomain() async throws {
        let foreign = SPIFFEID(trustDomain: "other.domain", namespace: "a", serviceAccount: "b")
        let leaf = try signLeaf(uris: [foreign.uri], by: ca)
        await #expect(throws: IdentityError(.trustDomainMismatch, "")) { try await verifier.verify(chain: [leaf]) }
    }

    @Test("leaves without exactly one SPIFFE URI are rejected")
    func noSPIFFE() async throws {
        let none = try signLeaf(uris: ["https://example.org"], by: ca)
        await #expect(throws: IdentityError(.noSPIFFEIdentity, "")) { try await verifier.verify(chain: [none]) }
        let two = try signLeaf(uris: [client.uri, echo.uri], by: ca)
        await #expect(throws: IdentityError(.noSPIFFEIdentity, "")) { try await verifier.verify(chain: [two]) }
    }

    @Test("an empty chain is no certificate")
    func empty() async {
        await #expect(throws: IdentityError(.noCertificate, "")) { try await verifier.verify(chain: []) }
    }

    /// A leaf with arbitrary URI SANs, signed by the CA's key (read back from disk, as an attacker with a
    /// mis-issued certificate would present it).
    func signLeaf(uris: [String], by ca: CertificateAuthority) throws -> Certificate {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ca.write(to: dir, force: true)
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: dir + "/ca-key.pem", encoding: .utf8))
        let key = P256.Signing.PrivateKey()
        return try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60),
            notValidAfter: Date().addingTimeInterval(3600),
            issuer: ca.certificate.subject,
            subject: DistinguishedName(),
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(SubjectAlternativeNames(uris.map { .uniformResourceIdentifier($0) }))
            },
            issuerPrivateKey: .init(caKey)
        )
    }
}

@Suite("Rotation")
struct RotationTests {
    final class Clock: @unchecked Sendable {
        // Only mutated by the test between manager calls.
        var now = Date()
    }

    @Test("certificates are re-issued at half-life, not before")
    func halfLife() throws {
        let ca = try CertificateAuthority.create(trustDomain: "cluster.local")
        let clock = Clock()
        let start = clock.now
        let manager = IdentityManager(ca: ca, lifetime: 30) { clock.now }
        try manager.reconcile([client, echo])
        let first = try manager.certificate(for: client)
        clock.now = start.addingTimeInterval(10)
        #expect(try manager.rotateDue().isEmpty)
        // notBefore is back-dated by a tenth of the lifetime (3 s): half-life is at start - 3 + 16.5.
        #expect(abs(first.refreshAt.timeIntervalSince(start) - 13.5) < 1)
        clock.now = first.refreshAt.addingTimeInterval(1)
        let rotated = try manager.rotateDue()
        #expect(Set(rotated) == [client, echo])
        let second = try manager.certificate(for: client)
        #expect(second.serial != first.serial)
        #expect(manager.entries[client]?.rotations == 1)
        try manager.reconcile([echo])
        #expect(manager.entries[client] == nil)
    }
}
