// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import WeftHBONE
import WeftIdentity
import WeftModel

/// `/config_dump` on the admin port: what the node is running with — workloads, services, policies, certificates
/// (expiry and state), captured pods, the HBONE pool and the configuration's reload history — as JSON.
/// Never contains a private key.
struct ConfigDump: Encodable {
    struct WorkloadEntry: Encodable {
        var uid: String
        var name: String
        var namespace: String
        var serviceAccount: String
        var identity: String
        var node: String?
        var local: Bool
        var addresses: [String]
        var labels: [String: String]
    }

    struct ServiceEntry: Encodable {
        struct Port: Encodable {
            var name: String?
            var port: UInt16
            var targetPort: String
            var appProtocol: String?
        }
        var uid: String
        var hostname: String
        var vips: [String]
        var ports: [Port]
        var endpoints: [String]
    }

    struct AuthorizationPolicyEntry: Encodable {
        var namespace: String
        var name: String
        var action: String
        var scope: String
        var rules: Int
        var dryRun: Bool
        var source: String?
    }

    struct PeerAuthenticationEntry: Encodable {
        var namespace: String
        var name: String
        var mode: String
        var selector: [String: String]?
        var portModes: [String: String]
    }

    struct CertificateEntry: Encodable {
        var identity: String
        var state: String
        var serial: String
        var notBefore: Date
        var notAfter: Date
        var expiresInSeconds: Int
        var refreshAt: Date
        var rotations: Int
    }

    struct PodEntry: Encodable {
        var uid: String
        var netns: String
    }

    struct PoolEntry: Encodable {
        var connections: Int
        var streams: Int
        var connectionsOpened: Int
        var pooling: Bool
    }

    var node: String
    var trustDomain: String
    var rootNamespace: String
    var version: String
    var generatedAt: Date
    var config: ConfigStatus.Snapshot
    var workloads: [WorkloadEntry]
    var services: [ServiceEntry]
    var authorizationPolicies: [AuthorizationPolicyEntry]
    var peerAuthentications: [PeerAuthenticationEntry]
    var certificates: [CertificateEntry]
    var capturedPods: [PodEntry]
    var hbonePool: PoolEntry
    var openSockets: Int

    init(context: NodeContext, pods: [(uid: String, netns: String)], version: String, now: Date = Date()) {
        let snapshot = context.snapshot
        node = context.node
        trustDomain = snapshot.trustDomain
        rootNamespace = snapshot.rootNamespace
        self.version = version
        generatedAt = now
        config = context.configStatus.snapshot
        workloads = snapshot.workloads.sorted { $0.uid < $1.uid }.map { w in
            WorkloadEntry(
                uid: w.uid, name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount,
                identity: snapshot.identity(of: w).description, node: w.node, local: w.node == context.node,
                addresses: w.addresses.map { "\($0)" }, labels: w.labels
            )
        }
        services = snapshot.services.sorted { $0.uid < $1.uid }.map { s in
            ServiceEntry(
                uid: s.uid, hostname: s.hostname, vips: s.vips.map { "\($0)" },
                ports: s.ports.map { p in
                    let target: String =
                        switch p.targetPort {
                        case .number(let n): "\(n)"
                        case .named(let name): name
                        }
                    return .init(name: p.name, port: p.port, targetPort: target, appProtocol: p.appProtocol)
                },
                endpoints: snapshot.endpoints(of: s).map(\.uid).sorted()
            )
        }
        authorizationPolicies = snapshot.authorizationPolicies.map { p in
            let scope: String =
                switch p.scope {
                case .namespace: p.namespace == snapshot.rootNamespace ? "mesh" : "namespace"
                case .selector(let selector):
                    "selector " + selector.matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                case .targetRefs(let refs): "targetRefs " + refs.map(\.description).joined(separator: ",")
                }
            return .init(
                namespace: p.namespace, name: p.name, action: p.action.rawValue, scope: scope, rules: p.rules.count,
                dryRun: p.dryRun, source: p.location?.description
            )
        }
        peerAuthentications = snapshot.peerAuthentications.map { p in
            .init(
                namespace: p.namespace, name: p.name, mode: p.mode.rawValue, selector: p.selector?.matchLabels,
                portModes: Dictionary(uniqueKeysWithValues: p.portModes.map { ("\($0.key)", $0.value.rawValue) })
            )
        }
        certificates = context.identities.entries.sorted { $0.key < $1.key }.map { identity, entry in
            let cert = entry.certificate
            return .init(
                identity: identity.description, state: now < cert.notAfter ? "Available" : "Expired",
                serial: cert.serial, notBefore: cert.notBefore, notAfter: cert.notAfter,
                expiresInSeconds: Int(cert.notAfter.timeIntervalSince(now)), refreshAt: cert.refreshAt,
                rotations: entry.rotations
            )
        }
        capturedPods = pods.map { PodEntry(uid: $0.uid, netns: $0.netns) }
        let pool = context.pool.statistics
        hbonePool = PoolEntry(
            connections: pool.connections, streams: pool.streams, connectionsOpened: pool.connectionsOpened,
            pooling: context.hboneConfiguration.pooling
        )
        openSockets = context.tracker.count
    }

    /// Pretty, key-sorted JSON with ISO 8601 dates.
    func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8))
    }
}
