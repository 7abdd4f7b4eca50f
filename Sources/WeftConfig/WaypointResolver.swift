// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Resolves waypoints against the other objects: which workloads run each waypoint, and which waypoint
/// each Service, ServiceEntry, Pod and WorkloadEntry uses, with Istio's rules (istiod's
/// `fetchWaypointForService` / `fetchWaypointForWorkload`):
///
/// - An object's own `istio.io/use-waypoint` label wins over its namespace's; `none` on the object opts
///   out of the namespace's waypoint (and on a Namespace means no namespace waypoint).
/// - The waypoint must accept the traffic: `istio.io/waypoint-for` `service` or `all` for services,
///   `workload` or `all` for workloads; `none` accepts nothing.
/// - A waypoint in another namespace (`istio.io/use-waypoint-namespace`) must allow it through its HBONE
///   listener's `allowedRoutes.namespaces`.
/// - A waypoint's own workloads, and Services labelled with its `gateway.networking.k8s.io/gateway-name`
///   (as istiod's generated waypoint Service is), never use a waypoint.
///
/// Problems are warnings at the label, since traffic then simply goes directly, as in Istio until the
/// waypoint appears: a waypoint that does not exist, one that does not accept this kind of traffic, and
/// one that does not allow this namespace. A namespace's label is reported once, not per object.
struct WaypointResolver {
    /// The waypoints by `namespace/name`, with their workloads resolved.
    private(set) var waypoints: [String: Waypoint] = [:]
    private let namespaces: [String: (namespace: MeshNamespace, origin: ObjectOrigin)]
    private let log: DiagnosticLog

    /// Indexes the waypoints and resolves their workloads: the Pods and WorkloadEntries in the Gateway's
    /// namespace labelled `gateway.networking.k8s.io/gateway-name: <name>`. A waypoint without any is a
    /// warning at the Gateway: nothing could receive its traffic.
    init(
        waypoints: [Waypoint], workloads: [Workload], namespaces: [(MeshNamespace, ObjectOrigin)], log: DiagnosticLog
    ) {
        self.log = log
        var byName: [String: (MeshNamespace, ObjectOrigin)] = [:]
        for (namespace, origin) in namespaces { byName[namespace.name] = (namespace, origin) }
        self.namespaces = byName
        for var waypoint in waypoints {
            let runners = workloads.filter {
                $0.namespace == waypoint.namespace && $0.labels[Waypoint.Labels.gatewayName] == waypoint.name
            }
            waypoint.workloads = runners.map(\.uid)
            waypoint.addresses = runners.flatMap(\.addresses)
            if runners.isEmpty {
                log.warning(
                    file: waypoint.location.file, line: waypoint.location.line, object: "Gateway/\(waypoint.key)",
                    field: "metadata.name",
                    "no Pod or WorkloadEntry in namespace \(waypoint.namespace) is labelled "
                        + "\(Waypoint.Labels.gatewayName): \(waypoint.name), so nothing runs this waypoint and "
                        + "traffic sent through it fails; add the waypoint's pods to the manifests")
            }
            self.waypoints[waypoint.key] = waypoint
        }
    }

    /// The waypoint of each service, by ``MeshService/uid``.
    func serviceBindings(_ services: [(MeshService, ObjectOrigin)]) -> [String: Waypoint] {
        var result: [String: Waypoint] = [:]
        for (service, origin) in services where !isPartOfWaypoint(service.namespace, service.labels) {
            if let waypoint = resolve(origin: origin, namespace: service.namespace, kind: .service) {
                result[service.uid] = waypoint
            }
        }
        return result
    }

    /// The waypoint of each workload, by ``Workload/uid``.
    func workloadBindings(_ workloads: [(Workload, ObjectOrigin)]) -> [String: Waypoint] {
        var result: [String: Waypoint] = [:]
        for (workload, origin) in workloads where !isPartOfWaypoint(workload.namespace, workload.labels) {
            if let waypoint = resolve(origin: origin, namespace: workload.namespace, kind: .workload) {
                result[workload.uid] = waypoint
            }
        }
        return result
    }

    /// Warns about each Namespace label naming a waypoint that does not exist or does not allow the
    /// namespace; objects that fall back to it are then not reported one by one.
    func checkNamespaceLabels() {
        for (name, entry) in namespaces.sorted(by: { $0.key < $1.key }) {
            guard let use = entry.origin.useWaypoint, case .waypoint = use.target else { continue }
            _ = lookUp(use, from: name, origin: entry.origin, what: "objects in this namespace")
        }
    }

    // MARK: - Resolution

    private enum TargetKind {
        case service
        case workload
    }

    private func resolve(origin: ObjectOrigin, namespace: String, kind: TargetKind) -> Waypoint? {
        let own = origin.useWaypoint
        let use = own ?? namespaces[namespace]?.origin.useWaypoint
        guard let use, case .waypoint = use.target else { return nil }
        if own == nil {
            // The namespace's label: its problems were reported once, at the Namespace.
            guard let waypoint = existing(use), allows(waypoint, namespace: namespace) else { return nil }
            return accepts(waypoint, kind) ? waypoint : nil
        }
        let what = kind == .service ? "this service" : "this workload"
        guard let waypoint = lookUp(use, from: namespace, origin: origin, what: what) else { return nil }
        guard accepts(waypoint, kind) else {
            let needed = kind == .service ? "service or all" : "workload or all"
            log.warning(
                file: origin.file, line: use.line, object: origin.object, field: use.field,
                "waypoint \(waypoint.key) has \(Waypoint.Labels.waypointFor): \(waypoint.waypointFor.rawValue), so it "
                    + "does not accept \(kind == .service ? "services" : "workloads"); traffic to \(what) goes "
                    + "directly — set \(Waypoint.Labels.waypointFor): \(needed) on the Gateway")
            return nil
        }
        return waypoint
    }

    /// The waypoint `use` names when it exists and allows `namespace`; otherwise a warning at the label.
    private func lookUp(_ use: WaypointUse, from namespace: String, origin: ObjectOrigin, what: String) -> Waypoint? {
        guard let waypoint = existing(use) else {
            log.warning(
                file: origin.file, line: use.line, object: origin.object, field: use.field,
                "waypoint \(use.description) does not exist in the manifests; traffic to \(what) goes directly "
                    + "until it is added (a Gateway with gatewayClassName: \(Waypoint.Labels.gatewayClassName))")
            return nil
        }
        guard allows(waypoint, namespace: namespace) else {
            log.warning(
                file: origin.file, line: use.line, object: origin.object, field: use.field,
                "waypoint \(waypoint.key) does not allow objects from namespace \(namespace): its HBONE listener "
                    + "allows only its own namespace; add allowedRoutes.namespaces.from: All (or a Selector) to it, "
                    + "or traffic to \(what) goes directly")
            return nil
        }
        return waypoint
    }

    private func existing(_ use: WaypointUse) -> Waypoint? {
        guard case .waypoint(let namespace, let name) = use.target else { return nil }
        return waypoints["\(namespace)/\(name)"]
    }

    private func allows(_ waypoint: Waypoint, namespace: String) -> Bool {
        let labels = namespaces[namespace]?.namespace.labels ?? [:]
        return waypoint.allowsAttachment(fromNamespace: namespace, namespaceLabels: labels)
    }

    private func accepts(_ waypoint: Waypoint, _ kind: TargetKind) -> Bool {
        kind == .service ? waypoint.waypointFor.servesServices : waypoint.waypointFor.servesWorkloads
    }

    /// Whether an object with these labels belongs to a waypoint of its namespace (its pods or Service).
    private func isPartOfWaypoint(_ namespace: String, _ labels: [String: String]) -> Bool {
        guard let name = labels[Waypoint.Labels.gatewayName] else { return false }
        return waypoints["\(namespace)/\(name)"] != nil
    }
}
