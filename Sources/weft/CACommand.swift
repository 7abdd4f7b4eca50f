// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Foundation
import WeftIdentity
import WeftModel

struct CA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage Weft's built-in certificate authority.",
        subcommands: [Init.self, Issue.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an ECDSA P-256 root CA (ca-cert.pem, and ca-key.pem with mode 0600)."
        )

        @Option(help: "Directory for the CA files (created 0700 if missing).")
        var dir: String

        @Option(help: "The mesh's SPIFFE trust domain.")
        var trustDomain: String = "cluster.local"

        @Flag(help: "Replace an existing CA. Every workload certificate issued by the old root stops being trusted.")
        var force = false

        func run() throws {
            guard (try? SPIFFEID(parsing: "spiffe://\(trustDomain)/ns/a/sa/b")) != nil else {
                throw ValidationError("--trust-domain '\(trustDomain)' is not a valid SPIFFE trust domain")
            }
            do {
                let ca = try CertificateAuthority.create(trustDomain: trustDomain)
                try ca.write(to: dir, force: force)
                print("created CA for trust domain \(trustDomain) in \(dir) (\(CertificateAuthority.certificateFile), \(CertificateAuthority.keyFile))")
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a workload certificate for a client outside Weft (testing, interoperability).",
            discussion: """
                The key is generated here and written with mode 0600 next to the certificate. Weft's own nodes never \
                use this: they generate their keys in memory.
                """
        )

        @Option(help: "Directory of the CA.")
        var caDir: String

        @Option(help: "SPIFFE ID, spiffe://<trust-domain>/ns/<ns>/sa/<sa>.")
        var identity: String

        @Option(help: "Output directory: cert.pem (leaf), key.pem, ca.pem.")
        var out: String

        @Option(help: "Lifetime, e.g. 1h.")
        var ttl: DurationArgument = DurationArgument(argument: "24h")!

        func run() throws {
            do {
                let id = try SPIFFEID(parsing: identity)
                let ca = try CertificateAuthority.load(from: caDir)
                let cert = try WorkloadCertificate.issue(for: id, by: ca, lifetime: ttl.seconds)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try cert.leafPEM().write(toFile: out + "/cert.pem", atomically: true, encoding: .utf8)
                try ca.certificatePEM().write(toFile: out + "/ca.pem", atomically: true, encoding: .utf8)
                let keyPath = out + "/key.pem"
                guard FileManager.default.createFile(
                    atPath: keyPath, contents: Data(cert.privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]
                ) else {
                    throw ValidationError("cannot write \(keyPath)")
                }
                print("issued \(id) (serial \(cert.serial)) into \(out)")
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
