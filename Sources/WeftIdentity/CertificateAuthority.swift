// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SwiftASN1
import WeftModel
import X509

/// Weft's built-in certificate authority: an ECDSA P-256 root that signs workload leaves.
///
/// The root lives in a directory as `ca-cert.pem` (0644) and `ca-key.pem` (0600). The node daemon loads it
/// and signs leaves for the identities it serves; each leaf's private key is generated in the node process
/// and never written anywhere.
public struct CertificateAuthority: Sendable {
    /// File names inside the CA directory.
    public static let certificateFile = "ca-cert.pem"
    public static let keyFile = "ca-key.pem"

    public let certificate: Certificate
    public let trustDomain: String
    private let privateKey: P256.Signing.PrivateKey

    /// Creates a new root, valid for `lifetime` (ten years by default).
    public static func create(
        trustDomain: String,
        now: Date = Date(),
        lifetime: TimeInterval = 10 * 365 * 86_400
    ) throws(IdentityError) -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        do {
            let name = try DistinguishedName {
                OrganizationName("Weft")
                CommonName("Weft root CA \(trustDomain)")
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: now.addingTimeInterval(lifetime),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                    // The trust domain is recorded as a SPIFFE URI SAN of the root so a loaded CA knows it.
                    SubjectAlternativeNames([.uniformResourceIdentifier("spiffe://\(trustDomain)")])
                },
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
            return CertificateAuthority(certificate: certificate, trustDomain: trustDomain, privateKey: key)
        } catch {
            throw IdentityError(.issuanceFailed, "could not create the root certificate: \(error)")
        }
    }

    private init(certificate: Certificate, trustDomain: String, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.trustDomain = trustDomain
        self.privateKey = privateKey
    }

    /// Loads a CA written by ``write(to:force:)``.
    public static func load(from directory: String) throws(IdentityError) -> CertificateAuthority {
        let certPath = (directory as NSString).appendingPathComponent(certificateFile)
        let keyPath = (directory as NSString).appendingPathComponent(keyFile)
        guard FileManager.default.fileExists(atPath: certPath), FileManager.default.fileExists(atPath: keyPath) else {
            throw IdentityError(
                .caNotFound,
                "no CA in \(directory): expected \(certificateFile) and \(keyFile); create one with 'weft ca init --dir \(directory)'"
            )
        }
        let certPEM: String
        let keyPEM: String
        do {
            certPEM = try String(contentsOfFile: certPath, encoding: .utf8)
            keyPEM = try String(contentsOfFile: keyPath, encoding: .utf8)
        } catch {
            throw IdentityError(.caUnreadable, "cannot read the CA in \(directory): \(error.localizedDescription)")
        }
        let certificate: Certificate
        let key: P256.Signing.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: certPEM)
        } catch {
            throw IdentityError(.caInvalid, "\(certPath): not a PEM certificate (\(error))")
        }
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        } catch {
            throw IdentityError(.caInvalid, "\(keyPath): not an ECDSA P-256 private key in PEM (\(error))")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw IdentityError(.caInvalid, "\(keyPath) does not belong to \(certPath); re-create the CA with --force")
        }
        guard let trustDomain = Self.trustDomain(of: certificate) else {
            throw IdentityError(.caInvalid, "\(certPath) carries no spiffe://<trust-domain> URI; it was not made by 'weft ca init'")
        }
        return CertificateAuthority(certificate: certificate, trustDomain: trustDomain, privateKey: key)
    }

    /// Writes the root to `directory` (created 0700 if missing). The key file is 0600.
    ///
    /// - Parameter force: overwrite an existing CA. Without it an existing CA is an error, because replacing a
    ///   root silently breaks every workload that trusts the old one.
    public func write(to directory: String, force: Bool) throws(IdentityError) {
        let fm = FileManager.default
        let certPath = (directory as NSString).appendingPathComponent(Self.certificateFile)
        let keyPath = (directory as NSString).appendingPathComponent(Self.keyFile)
        if !force && (fm.fileExists(atPath: certPath) || fm.fileExists(atPath: keyPath)) {
            throw IdentityError(.caAlreadyExists, "a CA already exists in \(directory); pass --force to replace it")
        }
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let certPEM = try certificate.serializeAsPEM().pemString + "\n"
            try Self.writeFile(keyPath, contents: privateKey.pemRepresentation + "\n", mode: 0o600)
            try Self.writeFile(certPath, contents: certPEM, mode: 0o644)
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError(.fileWriteFailed, "cannot write the CA to \(directory): \(error)")
        }
    }

    /// Writes a file with a mode set at creation, so a secret is never briefly world-readable.
    static func writeFile(_ path: String, contents: String, mode: mode_t) throws(IdentityError) {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw IdentityError(.fileWriteFailed, "cannot create \(tmp): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        close(fd)
        guard written == bytes.count, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw IdentityError(.fileWriteFailed, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The trust domain recorded in a root's SAN.
    static func trustDomain(of root: Certificate) -> String? {
        guard let sans = try? root.extensions.subjectAlternativeNames else { return nil }
        for name in sans {
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("spiffe://") {
                let td = String(uri.dropFirst("spiffe://".count))
                if !td.isEmpty && !td.contains("/") { return td }
            }
        }
        return nil
    }

    /// Signs a workload leaf for `identity` over `publicKey`, shaped like Istio's: empty subject, critical URI SAN,
    /// digitalSignature + keyEncipherment, serverAuth + clientAuth.
    public func issue(
        identity: SPIFFEID,
        publicKey: P256.Signing.PublicKey,
        now: Date = Date(),
        lifetime: TimeInterval
    ) throws(IdentityError) -> Certificate {
        guard identity.trustDomain == trustDomain else {
            throw IdentityError(
                .trustDomainMismatch,
                "refusing to issue \(identity) from the CA of trust domain \(trustDomain)"
            )
        }
        do {
            let leafKey = Certificate.PublicKey(publicKey)
            return try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: leafKey,
                // Back-dating absorbs clock skew between nodes (a minute, as Istio's CA), but never more than a
                // tenth of the lifetime: short test lifetimes would otherwise be due for renewal when issued.
                notValidBefore: now.addingTimeInterval(-min(60, lifetime / 10)),
                notValidAfter: now.addingTimeInterval(lifetime),
                issuer: certificate.subject,
                subject: DistinguishedName(),
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
                    Critical(SubjectAlternativeNames([.uniformResourceIdentifier(identity.uri)]))
                },
                issuerPrivateKey: Certificate.PrivateKey(privateKey)
            )
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError(.issuanceFailed, "could not sign a certificate for \(identity): \(error)")
        }
    }
}
