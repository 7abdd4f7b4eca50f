// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Foundation
import WeftConfig
import WeftModel
import WeftNode
import WeftPolicy

/// `weft explain`: what the node would do with one connection, and which policies and rules decided it. Uses
/// the same planner and policy engine as the data path.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain the authorization decision for a connection, with the policies and rules behind it.",
        discussion: """
            --from is a workload (<namespace>/<name>), a SPIFFE ID (spiffe://...), or 'plaintext' (a client \
            outside the mesh; give --from-ip). --to is a workload IP or a Service VIP with a port; for a VIP every \
            endpoint is explained. Exit status: 0 when every destination allows, 3 when any denies, 1 on error.
            """
    )

    @Option(name: .long, help: "Manifest file or directory (repeatable).")
    var config: [String]

    @Option(help: "The source: <namespace>/<workload>, spiffe://<trust-domain>/ns/<ns>/sa/<sa>, or plaintext.")
    var from: String

    @Option(help: "The source IP address (default: the source workload's first address).")
    var fromIp: String?

    @Option(help: "The destination, <ip>:<port> (a workload IP or a Service VIP).")
    var to: String

    @Option(help: "The mesh's SPIFFE trust domain.")
    var trustDomain: String = "cluster.local"

    func run() throws {
        let result = ManifestLoader.load(paths: config, trustDomain: trustDomain)
        guard let snapshot = result.snapshot, !result.hasErrors else {
            for diagnostic in result.errors { print(diagnostic.description) }
            throw ValidationError("the configuration has \(result.errors.count) error(s); 'weft check' shows them all")
        }
        guard let destination = HostPort(parsing: to) else {
            throw ValidationError("--to \"\(to)\" is not <ip>:<port>")
        }
        let (identity, sourceIP) = try source(in: snapshot)
        let targets = try Self.targets(for: destination, in: snapshot)
        let policies = PolicySet(snapshot: snapshot)
        var denied = false
        for (index, target) in targets.enumerated() {
            if index > 0 { print("") }
            print("destination: \(target.workload.kind.rawValue) \(target.workload.namespace)/\(target.workload.name) at \(target.address)\(target.via)")
            if identity == nil {
                let (mode, policy) = PeerAuthentication.effectiveMode(
                    for: target.workload, port: target.address.port, policies: snapshot.peerAuthentications,
                    rootNamespace: snapshot.rootNamespace
                )
                let source = policy.map { " (PeerAuthentication \($0.namespace)/\($0.name))" } ?? ""
                print("mTLS mode for plaintext: \(mode.rawValue)\(source)")
                if mode == .strict {
                    print("DENY: STRICT mTLS refuses plaintext before any AuthorizationPolicy is evaluated")
                    denied = true
                    continue
                }
            }
            let facts = ConnectionFacts(
                sourceIP: sourceIP, sourceIdentity: identity, destinationIP: target.address.ip,
                destinationPort: target.address.port, destination: target.workload
            )
            let explanation = policies.explain(facts)
            print(explanation.description)
            if !explanation.decision.isAllowed { denied = true }
        }
        if denied { throw ExitCode(3) }
    }

    /// The source's identity (nil: plaintext) and address.
    private func source(in snapshot: MeshSnapshot) throws -> (SPIFFEID?, IPAddress) {
        let explicitIP: IPAddress?
        if let fromIp {
            guard let ip = IPAddress(fromIp) else { throw ValidationError("--from-ip \"\(fromIp)\" is not an IP address") }
            explicitIP = ip
        } else {
            explicitIP = nil
        }
        if from == "plaintext" {
            guard let explicitIP else { throw ValidationError("--from plaintext needs --from-ip") }
            return (nil, explicitIP)
        }
        if from.hasPrefix("spiffe://") {
            let identity: SPIFFEID
            do {
                identity = try SPIFFEID(parsing: from)
            } catch {
                throw ValidationError("--from \"\(from)\": \(error)")
            }
            // Without an address, ipBlocks rules see the unspecified address (and say so in the trace).
            return (identity, explicitIP ?? IPAddress("0.0.0.0")!)
        }
        let parts = from.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let workload = snapshot.workloads.first(where: { $0.namespace == parts[0] && $0.name == parts[1] })
        else {
            throw ValidationError("--from \"\(from)\": no workload <namespace>/<name> of that name in the configuration")
        }
        guard let ip = explicitIP ?? workload.addresses.first else {
            throw ValidationError("--from \(from) has no address; give --from-ip")
        }
        return (snapshot.identity(of: workload), ip)
    }

    struct Target {
        var workload: Workload
        var address: HostPort
        var via: String
    }

    /// A workload IP is one target; a VIP is every endpoint of the Service on its target port.
    static func targets(for destination: HostPort, in snapshot: MeshSnapshot) throws -> [Target] {
        if let service = snapshot.servicesByVIP[destination.ip] {
            guard let port = service.port(destination.port) else {
                throw ValidationError("\(service.namespace)/\(service.name) has no port \(destination.port)")
            }
            let endpoints = snapshot.endpoints(of: service).compactMap { workload -> Target? in
                guard let ip = workload.addresses.first, let target = OutboundPlanner.targetPort(port, on: workload) else {
                    return nil
                }
                return Target(
                    workload: workload, address: HostPort(ip: ip, port: target),
                    via: " (endpoint of Service \(service.namespace)/\(service.name))"
                )
            }
            guard !endpoints.isEmpty else {
                throw ValidationError("Service \(service.namespace)/\(service.name) has no ready endpoint")
            }
            return endpoints
        }
        guard let workload = snapshot.workloadsByIP[destination.ip] else {
            throw ValidationError("\(destination.ip) is neither a workload nor a Service VIP: the node passes it through, no policy applies")
        }
        return [Target(workload: workload, address: destination, via: "")]
    }
}
