// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
//
// Certificates: what every new HBONE connection costs in identity work (verifying the peer's chain with
// `PeerVerifier`), and what issuing or rotating a workload certificate costs (P-256 key generation + signing by
// the built-in CA). Each benchmark iteration runs the operation 1 000 times (`scalingFactor: .kilo`), so the
// reported numbers (marked `*`) are per operation and the async hop of the harness is amortised.

import Benchmark
import BenchmarkSupport
import Foundation
import WeftIdentity
import WeftModel
import X509

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration.weft(
        timeUnits: .microseconds, scalingFactor: .kilo, maxDuration: .seconds(6), maxIterations: 100)

    // The chain as the TLS layer hands it over: the leaf only (MeshTLS does not send the root), verified on the
    // client side, where the expected identity is enforced too.
    Benchmark("PeerVerifier.verify leaf, expected identity", configuration: configuration) { benchmark, fixture in
        let cpu = CPUStopwatch()
        for _ in benchmark.scaledIterations {
            let identity = try await fixture.verifier.verify(chain: fixture.chain, expected: fixture.expected)
            guard identity == fixture.identity else { throw BenchmarkCheckFailed("verified as \(identity)") }
        }
        cpu.record(in: benchmark)
    } setup: {
        try await VerifyFixture()
    }

    // What MeshTLS's verification callback does per handshake: parse the presented DER, then verify.
    Benchmark(
        "PeerVerifier.verify from DER (as the TLS callback)", configuration: configuration
    ) { benchmark, fixture in
        let cpu = CPUStopwatch()
        for _ in benchmark.scaledIterations {
            let chain = try fixture.chainDER.map { try Certificate(derEncoded: $0) }
            let identity = try await fixture.verifier.verify(chain: chain, expected: fixture.expected)
            guard identity == fixture.identity else { throw BenchmarkCheckFailed("verified as \(identity)") }
        }
        cpu.record(in: benchmark)
    } setup: {
        try await VerifyFixture()
    }

    Benchmark("WorkloadCertificate.issue (P-256 key + CA signature)", configuration: configuration) { benchmark, ca in
        let cpu = CPUStopwatch()
        for _ in benchmark.scaledIterations {
            let certificate = try WorkloadCertificate.issue(for: workloadIdentity, by: ca, lifetime: 86_400)
            guard certificate.identity == workloadIdentity else {
                throw BenchmarkCheckFailed("issued \(certificate.identity)")
            }
            blackHole(certificate)
        }
        cpu.record(in: benchmark)
    } setup: {
        try CertificateAuthority.create(trustDomain: "cluster.local")
    }
}

let workloadIdentity = SPIFFEID(trustDomain: "cluster.local", namespace: "shop", serviceAccount: "checkout")

struct VerifyFixture: Sendable {
    let identity = workloadIdentity
    let expected: Set<SPIFFEID> = [workloadIdentity]
    let verifier: PeerVerifier
    let chain: [Certificate]
    let chainDER: [[UInt8]]

    init() async throws {
        let ca = try CertificateAuthority.create(trustDomain: "cluster.local")
        let leaf = try WorkloadCertificate.issue(for: workloadIdentity, by: ca, lifetime: 86_400)
        verifier = PeerVerifier(roots: [ca.certificate], trustDomains: ["cluster.local"])
        chain = [leaf.leaf]
        chainDER = Array(try leaf.chainDER().dropLast())  // without the root, as presented on the wire

        // The verifier must really verify: the same identity from another CA, and the right chain with another
        // expected identity, are refused. Otherwise the benchmark could be measuring a no-op.
        let rogue = try CertificateAuthority.create(trustDomain: "cluster.local")
        let forged = try WorkloadCertificate.issue(for: workloadIdentity, by: rogue, lifetime: 86_400)
        try await Self.expectRejection(.untrustedChain) {
            try await verifier.verify(chain: [forged.leaf], expected: [workloadIdentity])
        }
        let other = SPIFFEID(trustDomain: "cluster.local", namespace: "shop", serviceAccount: "other")
        try await Self.expectRejection(.identityMismatch) {
            try await verifier.verify(chain: chain, expected: [other])
        }
        guard try await verifier.verify(chain: chain, expected: expected) == workloadIdentity else {
            throw BenchmarkCheckFailed("valid chain did not verify as \(workloadIdentity)")
        }
    }

    static func expectRejection(
        _ code: IdentityError.Code, _ body: () async throws -> SPIFFEID
    ) async throws {
        do {
            let identity = try await body()
            throw BenchmarkCheckFailed("expected rejection \(code), but verified as \(identity)")
        } catch let error as IdentityError {
            guard error.code == code else {
                throw BenchmarkCheckFailed("expected rejection \(code), got \(error.code): \(error)")
            }
        }
    }
}
