// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Checks the translated objects against each other and builds the snapshot.
///
/// Reports, on the later of two objects in load order: a duplicate object (same kind, namespace and
/// name), an address used by two workloads (Pods and WorkloadEntries), and a virtual IP used by two
/// services (Services and ServiceEntries). Addresses of a ServiceEntry's inline endpoints are not
/// checked: several ServiceEntries may legitimately list the same external endpoint. Two selector-less
/// PeerAuthentications in one namespace are a warning: only one of them applies.
///
/// Waypoints are resolved by ``WaypointResolver`` (their workloads, and the waypoint each service and
/// workload uses) and routes by ``RouteAssembler`` (parents, backends and WeftRoute's compile errors);
/// VirtualServices, DestinationRules and LocalRateLimitPolicies by ``TrafficPolicyAssembler``.
enum SnapshotAssembler {
    /// What an assembly produces when the manifests have no error.
    struct Assembly {
        var snapshot: MeshSnapshot
        var routes: MeshRoutes
        /// VirtualServices, DestinationRules and LocalRateLimitPolicies.
        var traffic: MeshTrafficPolicies
    }

    static func assemble(
        _ objects: [TranslatedObject], trustDomain: String, rootNamespace: String = "istio-system",
        log: DiagnosticLog
    ) -> Assembly? {
        var objectOrigins: [String: ObjectOrigin] = [:]
        var addressOwners: [IPAddress: (origin: ObjectOrigin, line: Int)] = [:]
        var vipOwners: [IPAddress: (origin: ObjectOrigin, line: Int)] = [:]
        var namespaces: [(MeshNamespace, ObjectOrigin)] = []
        var workloads: [(Workload, ObjectOrigin)] = []
        var services: [(MeshService, ObjectOrigin)] = []
        var waypoints: [Waypoint] = []
        var otherGateways: [String: String] = [:]
        var routes: [(TranslatedRoute, ObjectOrigin)] = []
        var peerAuthentications: [(policy: PeerAuthentication, origin: ObjectOrigin)] = []
        var authorizationPolicies: [AuthorizationPolicy] = []
        var virtualServices: [TrafficPolicyAssembler.Located<VirtualServiceSpec>] = []
        var destinationRules: [TrafficPolicyAssembler.Located<DestinationRuleSpec>] = []
        var rateLimitPolicies: [TrafficPolicyAssembler.Located<LocalRateLimitPolicyTranslator.Policy>] = []

        for object in objects {
            let origin = object.origin
            if let first = objectOrigins[origin.object] {
                log.error(
                    file: origin.file, line: origin.line, object: origin.object, field: "metadata.name",
                    "duplicate object: \(origin.object) is already defined at \(first.location); "
                        + "rename or remove one of them")
                continue
            }
            objectOrigins[origin.object] = origin
            switch object {
            case .namespace(let namespace, _):
                namespaces.append((namespace, origin))
            case .workload(let workload, _, let addresses):
                claim(addresses, by: origin, in: &addressOwners, log: log) { ip, first in
                    "address \(ip) is already used by \(first); every workload needs its own IP — "
                        + "correct or remove one of them"
                }
                workloads.append((workload, origin))
            case .service(let service, _, let vips):
                claim(vips, by: origin, in: &vipOwners, log: log) { ip, first in
                    "virtual IP \(ip) is already used by \(first); every service needs its own VIP — "
                        + "correct or remove one of them"
                }
                services.append((service, origin))
            case .peerAuthentication(let policy, _):
                peerAuthentications.append((policy, origin))
            case .authorizationPolicy(let policy, _):
                authorizationPolicies.append(policy)
            case .waypoint(let waypoint, _):
                waypoints.append(waypoint)
            case .otherGateway(let className, _):
                let key = origin.object.split(separator: "/", maxSplits: 1).last.map(String.init) ?? origin.object
                otherGateways[key] = className
            case .route(let route, _):
                routes.append((route, origin))
            case .virtualService(let spec, let lines, _):
                virtualServices.append((spec, lines, origin))
            case .destinationRule(let spec, let lines, _):
                destinationRules.append((spec, lines, origin))
            case .localRateLimitPolicy(let policy, let lines, _):
                rateLimitPolicies.append((policy, lines, origin))
            }
        }
        warnShadowedPeerAuthentications(peerAuthentications, rootNamespace: rootNamespace, log: log)

        let resolver = WaypointResolver(
            waypoints: waypoints, workloads: workloads.map(\.0), namespaces: namespaces, log: log)
        resolver.checkNamespaceLabels()
        let snapshot = MeshSnapshot(
            trustDomain: trustDomain, namespaces: namespaces.map(\.0), workloads: workloads.map(\.0),
            services: services.map(\.0), peerAuthentications: peerAuthentications.map(\.policy),
            authorizationPolicies: authorizationPolicies, rootNamespace: rootNamespace,
            waypoints: waypoints.compactMap { resolver.waypoints[$0.key] },
            waypointsByService: resolver.serviceBindings(services),
            waypointsByWorkload: resolver.workloadBindings(workloads))
        let routeAssembler = RouteAssembler(snapshot: snapshot, otherGateways: otherGateways, log: log)
        let resolvedRoutes = routeAssembler.resolve(routes)
        let meshRoutes = routeAssembler.build(resolvedRoutes)
        let trafficAssembler = TrafficPolicyAssembler(
            snapshot: snapshot, routes: meshRoutes, otherGateways: otherGateways, log: log)
        let traffic = trafficAssembler.assemble(
            virtualServices: virtualServices, destinationRules: destinationRules, rateLimitPolicies: rateLimitPolicies)
        guard !log.hasErrors else { return nil }
        return Assembly(snapshot: snapshot, routes: meshRoutes, traffic: traffic)
    }

    /// Warns about every selector-less PeerAuthentication that another one in the same namespace shadows.
    /// Istio applies only the oldest; Weft has no creation times and applies the alphabetically first name,
    /// as ``PeerAuthentication/effectiveMode(for:port:policies:rootNamespace:)`` does.
    private static func warnShadowedPeerAuthentications(
        _ policies: [(policy: PeerAuthentication, origin: ObjectOrigin)], rootNamespace: String, log: DiagnosticLog
    ) {
        let byNamespace = Dictionary(grouping: policies.filter { $0.policy.selector == nil }, by: \.policy.namespace)
        for (namespace, group) in byNamespace where group.count > 1 {
            let sorted = group.sorted { $0.policy.name < $1.policy.name }
            guard let winner = sorted.first else { continue }
            let scope =
                namespace == rootNamespace ? "the whole mesh (root namespace \(namespace))" : "namespace \(namespace)"
            for shadowed in sorted.dropFirst() {
                log.warning(
                    file: shadowed.origin.file, line: shadowed.origin.line, object: shadowed.origin.object,
                    field: "metadata.name",
                    "another PeerAuthentication without a selector, \(winner.origin.object) "
                        + "(\(winner.origin.location)), also applies to \(scope); Istio uses only the oldest, Weft "
                        + "uses the alphabetically first name, \(winner.policy.name), so this one is ignored — "
                        + "merge them or add a selector to one")
            }
        }
    }

    /// Records `addresses` as owned by `origin`, reporting each one another object already owns.
    /// `message` gets the address and `Kind/namespace/name (file:line)` of the first owner.
    private static func claim(
        _ addresses: [LocatedAddress], by origin: ObjectOrigin,
        in owners: inout [IPAddress: (origin: ObjectOrigin, line: Int)], log: DiagnosticLog,
        message: (IPAddress, String) -> String
    ) {
        for address in addresses {
            if let first = owners[address.ip] {
                let owner = "\(first.origin.object) (\(first.origin.file):\(first.line))"
                log.error(
                    file: origin.file, line: address.line, object: origin.object, field: address.field,
                    message(address.ip, owner))
            } else {
                owners[address.ip] = (origin, address.line)
            }
        }
    }
}
