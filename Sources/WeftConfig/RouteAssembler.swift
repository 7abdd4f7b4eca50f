// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Checks HTTPRoutes and GRPCRoutes against the rest of the manifests and builds ``MeshRoutes``.
///
/// Errors: every problem WeftRoute's compiler finds (``RouteCompileError``: regular expressions, paths,
/// hostnames, header names, filter rules, weights, timeouts, retry), at the field's line. Each route is
/// compiled once on its own for this, so a problem is reported once however many Service ports the route
/// attaches to, and also when it attaches to none.
///
/// Warnings (the route still loads): a parent Service or Gateway that does not exist, a Gateway that is not
/// a waypoint or does not allow the route's namespace, a Service port or `sectionName` the Service does
/// not have (that parent is dropped), a parent Service that uses no waypoint (the route has no effect), a
/// route without parents, and backends or mirror targets that will not resolve — a missing Service
/// (`BackendNotFound`) or another kind (`InvalidKind`), whose share of traffic gets HTTP 500 — or that are in
/// another namespace (Weft does not read ReferenceGrants and allows them).
struct RouteAssembler {
    private let snapshot: MeshSnapshot
    private let servicesByKey: [String: MeshService]
    private let otherGateways: [String: String]
    private let log: DiagnosticLog

    /// - Parameters:
    ///   - snapshot: The snapshot the routes belong to, with waypoints resolved.
    ///   - otherGateways: Gateways that are not waypoints: `namespace/name` → `gatewayClassName`.
    init(snapshot: MeshSnapshot, otherGateways: [String: String], log: DiagnosticLog) {
        self.snapshot = snapshot
        var byKey: [String: MeshService] = [:]
        for service in snapshot.services where service.kind == .service {
            byKey["\(service.namespace)/\(service.name)"] = byKey["\(service.namespace)/\(service.name)"] ?? service
        }
        self.servicesByKey = byKey
        self.otherGateways = otherGateways
        self.log = log
    }

    /// What a route resolved to: the route (parents with a `sectionName` resolved, unusable ones dropped)
    /// and the Service ports it attaches to.
    struct Resolved {
        var route: TranslatedRoute
        var parents: [RouteParent]
    }

    /// Checks every route and resolves its parents. `routes` are in load order; routes without a
    /// `creationTimestamp` are ordered after those with one, in load order.
    func resolve(_ routes: [(TranslatedRoute, ObjectOrigin)]) -> [Resolved] {
        routes.enumerated().map { index, entry in
            var (route, origin) = entry
            if !route.hasCreationTimestamp { route.spec.creationOrder = (Int64(1) << 40) + Int64(index) }
            reportCompileErrors(route, origin: origin)
            checkBackends(route, origin: origin)
            return resolveParents(route, origin: origin)
        }
    }

    /// Builds the routes and the tables of every Service port some route attaches to.
    func build(_ resolved: [Resolved]) -> MeshRoutes {
        MeshRoutes(
            httpRoutes: resolved.filter { $0.route.kind == .http }.map(\.route.spec),
            grpcRoutes: resolved.filter { $0.route.kind == .grpc }.map(\.route.spec),
            http: tables(resolved, kind: .http), grpc: tables(resolved, kind: .grpc))
    }

    private func tables(
        _ resolved: [Resolved], kind: TranslatedRoute.Kind
    ) -> [RouteParent: (routes: [HTTPRouteSpec], table: RouteTable)] {
        var attached: [RouteParent: [HTTPRouteSpec]] = [:]
        for entry in resolved where entry.route.kind == kind {
            for parent in entry.parents {
                var spec = entry.route.spec
                if !spec.attaches(to: parent) {
                    spec.parentRefs.append(.init(namespace: parent.namespace, name: parent.name, port: parent.port))
                }
                attached[parent, default: []].append(spec)
            }
        }
        var result: [RouteParent: (routes: [HTTPRouteSpec], table: RouteTable)] = [:]
        for (parent, routes) in attached {
            let ordered = routes.sorted {
                ($0.creationOrder, $0.reference.key) < ($1.creationOrder, $1.reference.key)
            }
            result[parent] = (ordered, RouteTable(parent: parent, routes: ordered, resolveBackend: status(of:)))
        }
        return result
    }

    /// The resolver every table uses: an existing core Service is valid.
    func status(of backend: RouteBackend) -> BackendStatus {
        guard backend.isService else { return .invalid(.invalidKind) }
        return servicesByKey["\(backend.namespace)/\(backend.name)"] == nil ? .invalid(.backendNotFound) : .valid
    }

    // MARK: - Compile errors

    /// Compiles `route` alone, attached to a stand-in parent (compile errors do not depend on the parent),
    /// and reports each ``RouteCompileError`` at its field.
    private func reportCompileErrors(_ route: TranslatedRoute, origin: ObjectOrigin) {
        var spec = route.spec
        let parent = RouteParent(namespace: spec.namespace, name: spec.name, port: 1)
        spec.parentRefs = [.init(namespace: parent.namespace, name: parent.name, port: parent.port)]
        for error in RouteTable(parent: parent, routes: [spec], resolveBackend: { _ in .valid }).errors {
            let field = route.manifestPath(forModelField: error.field)
            log.error(
                file: origin.file, line: route.line(of: field, fallback: origin.line), object: origin.object,
                field: field, route.manifestMessage(error.message))
        }
    }

    // MARK: - Parents

    private func resolveParents(_ route: TranslatedRoute, origin: ObjectOrigin) -> Resolved {
        var route = route
        var parents: [RouteParent] = []
        var dropped: Set<Int> = []
        if route.spec.parentRefs.isEmpty {
            log.warning(
                file: origin.file, line: route.line(of: "spec.parentRefs", fallback: origin.line),
                object: origin.object, field: "spec.parentRefs",
                "the route has no parentRefs, so it attaches to nothing; add one naming a Service "
                    + "(group: \"\", kind: Service) or a waypoint Gateway")
        }
        for (index, reference) in route.spec.parentRefs.enumerated() {
            let field = route.manifestPath(forModelField: "parentRefs[\(index)]")
            let nameField = field + ".name"
            let at = Site(origin: origin, field: nameField, line: route.line(of: nameField, fallback: origin.line))
            let namespace = reference.namespace ?? route.spec.namespace
            if (reference.group.isEmpty || reference.group == "core") && reference.kind == "Service" {
                var reference = reference
                let ports = servicePorts(
                    reference, namespace: namespace, sectionName: route.sectionNames[index], at: at,
                    resolvedPort: &reference.port)
                if let ports {
                    route.spec.parentRefs[index] = reference
                    parents += ports.map { RouteParent(namespace: namespace, name: reference.name, port: $0) }
                } else {
                    dropped.insert(index)
                }
            } else if reference.group == RouteFieldReader.gatewayGroup && reference.kind == "Gateway" {
                parents += waypointPorts(
                    reference, namespace: namespace, sectionName: route.sectionNames[index], route: route, at: at)
            }
        }
        route.spec.parentRefs = route.spec.parentRefs.enumerated()
            .filter { !dropped.contains($0.offset) }
            .map(\.element)
        var unique: [RouteParent] = []
        for parent in parents where !unique.contains(parent) { unique.append(parent) }
        return Resolved(route: route, parents: unique)
    }

    /// Where a warning goes.
    private struct Site {
        var origin: ObjectOrigin
        var field: String
        var line: Int
    }

    private func warn(_ site: Site, _ message: String) {
        log.warning(file: site.origin.file, line: site.line, object: site.origin.object, field: site.field, message)
    }

    /// The ports a Service parent reference attaches to; `nil` when it attaches to nothing and must be
    /// dropped (a `sectionName` or `port` the Service does not have). A missing Service is a warning but
    /// keeps the reference: it attaches once the Service exists.
    private func servicePorts(
        _ reference: HTTPRouteSpec.ParentReference, namespace: String, sectionName: String?, at site: Site,
        resolvedPort: inout UInt16?
    ) -> [UInt16]? {
        let key = "\(namespace)/\(reference.name)"
        guard let service = servicesByKey[key] else {
            warn(site, "Service \(key) does not exist in the manifests; this parentRef attaches the route to nothing")
            return []
        }
        if let sectionName {
            guard let port = service.ports.first(where: { $0.name == sectionName }) else {
                let names = service.ports.compactMap(\.name)
                let known = names.isEmpty ? "it has no named ports" : "its ports are " + names.joined(separator: ", ")
                warn(site, "Service \(key) has no port named \(sectionName) (\(known)); this parentRef is ignored")
                return nil
            }
            if let number = reference.port, number != port.port {
                warn(
                    site,
                    "sectionName \(sectionName) is port \(port.port) but port says \(number); this parentRef is "
                        + "ignored")
                return nil
            }
            resolvedPort = port.port
        }
        if let number = resolvedPort, service.port(number) == nil {
            let ports = service.ports.map { String($0.port) }.joined(separator: ", ")
            warn(
                site,
                "Service \(key) has no port \(number) (it has \(ports.isEmpty ? "none" : ports)); this parentRef is "
                    + "ignored")
            return nil
        }
        if snapshot.waypoint(forService: service) == nil {
            warn(
                site,
                "Service \(key) uses no waypoint (no \(Waypoint.Labels.useWaypoint) label on it or its namespace), so "
                    + "this route has no effect on its traffic")
        }
        return resolvedPort.map { [$0] } ?? service.ports.map(\.port)
    }

    /// The Service ports a Gateway parent reference attaches to: those of every Service using the waypoint.
    private func waypointPorts(
        _ reference: HTTPRouteSpec.ParentReference, namespace: String, sectionName: String?, route: TranslatedRoute,
        at site: Site
    ) -> [RouteParent] {
        let key = "\(namespace)/\(reference.name)"
        guard let waypoint = snapshot.waypoint(namespace: namespace, name: reference.name) else {
            if let className = otherGateways[key] {
                warn(
                    site,
                    "Gateway \(key) is not a waypoint (gatewayClassName \(className)); the waypoint ignores this "
                        + "parentRef")
            } else {
                warn(
                    site,
                    "Gateway \(key) does not exist in the manifests; this parentRef attaches the route to nothing")
            }
            return []
        }
        let labels = snapshot.namespaces[route.spec.namespace]?.labels ?? [:]
        guard waypoint.allowsAttachment(fromNamespace: route.spec.namespace, namespaceLabels: labels) else {
            warn(
                site,
                "waypoint \(key) does not allow routes from namespace \(route.spec.namespace): its HBONE listener "
                    + "allows only its own namespace; add allowedRoutes.namespaces.from: All (or a Selector) to it")
            return []
        }
        if let sectionName, !waypoint.listeners.contains(where: { $0.name == sectionName }) {
            warn(
                site,
                "waypoint \(key) has no listener named \(sectionName); this parentRef attaches the route to nothing")
            return []
        }
        if let port = reference.port, !waypoint.listeners.contains(where: { $0.port == port }) {
            warn(site, "waypoint \(key) has no listener on port \(port); this parentRef attaches the route to nothing")
            return []
        }
        let services = snapshot.services(usingWaypoint: waypoint).filter { $0.kind == .service }
        if services.isEmpty {
            warn(site, "no Service uses waypoint \(key), so this route has no effect yet")
        }
        return services.flatMap { service in
            service.ports.map { RouteParent(namespace: service.namespace, name: service.name, port: $0.port) }
        }
    }

    // MARK: - Backends

    /// Warns about each backend and mirror target that will not resolve, or crosses namespaces.
    private func checkBackends(_ route: TranslatedRoute, origin: ObjectOrigin) {
        for (ruleIndex, rule) in route.spec.rules.enumerated() {
            let rulePath = "rules[\(ruleIndex)]"
            checkMirrors(rule.filters, modelPath: rulePath, route: route, origin: origin)
            for (index, backendRef) in rule.backendRefs.enumerated() {
                let modelPath = "\(rulePath).backendRefs[\(index)]"
                let consequence = "its share of traffic (weight \(backendRef.weight)) gets HTTP 500"
                check(backendRef.backend, modelPath: modelPath, consequence: consequence, route: route, origin: origin)
                checkMirrors(backendRef.filters, modelPath: modelPath, route: route, origin: origin)
            }
        }
    }

    private func checkMirrors(
        _ filters: [HTTPRouteFilter], modelPath: String, route: TranslatedRoute, origin: ObjectOrigin
    ) {
        for (index, filter) in filters.enumerated() {
            guard case .requestMirror(let mirror) = filter else { continue }
            check(
                mirror.backend, modelPath: "\(modelPath).filters[\(index)].requestMirror.backendRef",
                consequence: "requests are not mirrored to it", route: route, origin: origin)
        }
    }

    private func check(
        _ reference: BackendObjectReference, modelPath: String, consequence: String, route: TranslatedRoute,
        origin: ObjectOrigin
    ) {
        let backend = reference.resolved(routeNamespace: route.spec.namespace)
        let path = route.manifestPath(forModelField: modelPath)
        func site(_ key: String) -> Site {
            let field = route.lines[path + "." + key] != nil ? path + "." + key : path + ".name"
            return Site(origin: origin, field: field, line: route.line(of: field, fallback: origin.line))
        }
        let key = "\(backend.namespace)/\(backend.name)"
        switch status(of: backend) {
        case .invalid(.invalidKind):
            let kind = "\(backend.group.isEmpty ? "core" : backend.group)/\(backend.kind)"
            warn(
                site("kind"),
                "backend kind \(kind) is not supported (only core Services are); \(consequence) (InvalidKind)")
            return
        case .invalid:
            warn(site("name"), "Service \(key) does not exist in the manifests; \(consequence) (BackendNotFound)")
            return
        case .valid:
            break
        }
        if let port = backend.port, let service = servicesByKey[key], service.port(port) == nil {
            let ports = service.ports.map { String($0.port) }.joined(separator: ", ")
            warn(site("port"), "Service \(key) has no port \(port) (it has \(ports.isEmpty ? "none" : ports))")
        }
        if backend.namespace != route.spec.namespace {
            warn(
                site("namespace"),
                "backend in namespace \(backend.namespace): Gateway API requires a ReferenceGrant there, which Weft "
                    + "does not read; the reference is allowed")
        }
    }
}
