// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Crypto
import Foundation
import Testing
import WeftIdentity
import WeftModel
import X509

let client = SPIFFEID(trustDomain: "cluster.local", namespace: "demo", serviceAccount: "client")
let echo = SPIFFEID(trustDomain: "cluster.local", namespace: "demo", serviceAccount: "echo")

func temporaryDirectory() -> String {
    NSTemporaryDirectory() + "weft-identity-" + UUID().uuidString
}

@Suite("Built-in CA")
struct CertificateAuthorityTests {
    @Test("init writes a 0600 key, refuses to overwrite, --force replaces")
    func writeAndLoad() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ca = try CertificateAuthority.create(trustDomain: "example.org")
        try ca.write(to: dir, force: false)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/ca-key.pem")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(throws: IdentityError(.caAlreadyExists, "")) { try CertificateAuthority.create(trustDomain: "x").write(to: dir, force: false) }
        let loaded = try CertificateAuthority.load(from: dir)
        #expect(loaded.trustDomain == "example.org")
        #expect(loaded.certificate == ca.certificate)
        let replacement = try CertificateAuthority.create(trustDomain: "other.org")
        try replacement.write(to: dir, force: true)
        #expect(try CertificateAuthority.load(from: dir).trustDomain == "other.org")
    }

    @Test("a missing or mismatched CA is a clear error")
    func loadErrors() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: IdentityError(.caNotFound, "")) { try CertificateAuthority.load(from: dir) }
        try CertificateAuthority.create(trustDomain: "a.org").write(to: dir, force: false)
        let other = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        try CertificateAuthority.create(trustDomain: "a.org").write(to: other, force: false)
        try FileManager.default.removeItem(atPath: dir + "/ca-key.pem")
        try FileManager.default.copyItem(atPath: other + "/ca-key.pem", toPath: dir + "/ca-key.pem")
        #expect(throws: IdentityError(.caInvalid, "")) { try CertificateAuthority.load(from: dir) }
        try "garbage".write(toFile: dir + "/ca-cert.pem", atomically: true, encoding: .utf8)
        #expect(throws: IdentityError(.caInvalid, "")) { try CertificateAuthority.load(from: dir) }
    }

    @Test("leaves are shaped like Istio's: empty subject, one critical SPIFFE URI SAN, not a CA")
    func leafShape() throws {
        let ca = try CertificateAuthority.create(trustDomain: "cluster.local")
        let now = Date()
        let cert = try WorkloadCertificate.issue(for: client, by: ca, lifetime: 3600, now: now)
        #expect(cert.leaf.subject == DistinguishedName())
        let san = try #require(cert.leaf.extensions[oid: .X509ExtensionID.subjectAlternativeName])
        #expect(san.critical)
        #expect(try SPIFFEPolicy.spiffeID(of: cert.leaf).get() == client)
        #expect(try cert.leaf.extensions.basicConstraints == .notCertificateAuthority)
        #expect(abs(cert.notAfter.timeIntervalSince(now) - 3600) < 2)
        #expect(abs(cert.refreshAt.timeIntervalSince(now) - 1770) < 2)  // (3600 + 60) / 2 - 60
        #expect(throws: IdentityError(.trustDomainMismatch, "")) {
            try WorkloadCertificate.issue(for: SPIFFEID(trustDomain: "evil.org", namespace: "a", serviceAccount: "b"), by: ca, lifetime: 60)
        }
    }
}
