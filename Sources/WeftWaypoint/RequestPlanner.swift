// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Decides, without I/O, what the waypoint does with a request addressed to `service:port`:
///
/// 1. Gateway API routes attached to the Service port (GRPCRoutes, else HTTPRoutes) — precedence order;
/// 2. otherwise the VirtualService for the Service's host — first match in order;
/// 3. otherwise the Service itself.
///
/// The destination becomes an ``UpstreamCluster`` with the host's DestinationRule settings and subset. Istio's
/// default retry policy applies wherever a route does not set one; fault injection disables timeouts and retries.
struct RequestPlanner {
    let state: WaypointState
    let service: MeshService
    let port: UInt16

    func plan(_ request: RouteRequest, using generator: inout some RandomNumberGenerator) -> RequestPlan {
        let parent = RouteParent(namespace: service.namespace, name: service.name, port: port)
        if let (table, isGRPC) = state.routes(for: parent) {
            return planGatewayRoute(request, table: table, isGRPC: isGRPC)
        }
        if let table = state.routing.virtualServices(service.hostname) {
            return planVirtualService(request, table: table, using: &generator)
        }
        var plan = RequestPlan(action: .respond(Self.noCluster("")), request: request)
        switch cluster(service: service, port: port, subset: nil) {
        case .success(let cluster): plan.action = .forward(cluster)
        case .failure(let answer): plan.action = .respond(answer)
        }
        plan.retry = .istioDefault
        return plan
    }

    // MARK: - Gateway API

    private func planGatewayRoute(_ request: RouteRequest, table: RouteTable, isGRPC: Bool) -> RequestPlan {
        var plan = RequestPlan(action: .respond(Self.noRoute(request)), request: request)
        guard let selection = table.match(request) else { return plan }
        plan.route = .init(
            kind: isGRPC ? .grpcRoute : .httpRoute, key: selection.match.route.key, ruleIndex: selection.match.ruleIndex,
            ruleName: selection.match.ruleName
        )
        switch selection.outcome {
        case .failure(let failure):
            plan.action = .respond(.init(status: failure.statusCode, flag: "-", details: "invalid_backend", body: "\(failure)\n"))
        case .redirect(let redirect):
            plan.action = .respond(Self.redirect(status: redirect.statusCode, location: redirect.location))
        case .forward(let backend):
            guard let target = state.service(namespace: backend.namespace, name: backend.name) else {
                plan.action = .respond(
                    .init(status: 500, flag: "-", details: "invalid_backend", body: "backend \(backend) does not exist\n")
                )
                return plan
            }
            switch cluster(service: target, port: backend.port ?? port, subset: nil) {
            case .success(let cluster): plan.action = .forward(cluster)
            case .failure(let answer):
                plan.action = .respond(answer)
                return plan
            }
            selection.applyRequestFilters(to: &plan.request)
            if plan.request.path != request.path { plan.originalPath = request.path }
            plan.response = .httpRoute(selection)
            plan.mirrors = selection.mirrors.compactMap { mirror in
                state.service(namespace: mirror.namespace, name: mirror.name).flatMap {
                    try? cluster(service: $0, port: mirror.port ?? port, subset: nil).get()
                }
            }
            plan.timeout = selection.routeTimeout
            plan.retry = selection.retryPolicy
        }
        return plan
    }

    // MARK: - VirtualService

    private func planVirtualService(
        _ request: RouteRequest, table: VirtualServiceTable, using generator: inout some RandomNumberGenerator
    ) -> RequestPlan {
        var plan = RequestPlan(action: .respond(Self.noRoute(request)), request: request)
        guard let selection = table.match(request, using: &generator) else { return plan }
        plan.route = .init(
            kind: .virtualService, key: selection.virtualService, ruleIndex: selection.ruleIndex, ruleName: selection.ruleName
        )
        plan.delay = selection.delay
        switch selection.outcome {
        case .redirect(let redirect):
            plan.action = .respond(Self.redirect(status: redirect.statusCode, location: redirect.location))
        case .abort(let status):
            plan.action = .respond(.init(status: status, flag: "FI", details: "fault_filter_abort", body: "fault filter abort"))
        case .grpcAbort(let status):
            // gRPC: HTTP 200 with the status in the headers and no message (a trailers-only answer on HTTP/2).
            plan.action = .respond(
                .init(
                    status: 200, flag: "FI", details: "fault_filter_abort", body: "",
                    headers: [
                        HTTPHeaderField("content-type", "application/grpc"), HTTPHeaderField("grpc-status", "\(status)"),
                        HTTPHeaderField("grpc-message", "fault filter abort"),
                    ]
                )
            )
        case .forward(let destination):
            switch cluster(for: destination) {
            case .success(let cluster): plan.action = .forward(cluster)
            case .failure(let answer):
                plan.action = .respond(answer)
                return plan
            }
            selection.applyRequestOperations(to: &plan.request)
            if plan.request.path != request.path { plan.originalPath = request.path }
            plan.response = .virtualService(selection)
            plan.mirrors = selection.mirror.flatMap { try? cluster(for: $0).get() }.map { [$0] } ?? []
            plan.timeout = selection.timeout
            plan.retry = selection.retry
        }
        return plan
    }

    /// The cluster of a VirtualService destination: its host must be a known Service, its port one of that
    /// Service's (default: the port the client dialled, or the Service's only port).
    private func cluster(for destination: VirtualServiceDestination) -> Result<UpstreamCluster, RequestPlan.LocalAnswer> {
        guard let target = state.service(hostname: destination.host) else {
            return .failure(Self.noCluster("no Service or ServiceEntry has host \(destination.host)\n"))
        }
        let targetPort: UInt16
        if let number = destination.port {
            targetPort = number
        } else if target.port(port) != nil {
            targetPort = port
        } else if target.ports.count == 1 {
            targetPort = target.ports[0].port
        } else {
            return .failure(Self.noCluster("destination \(destination) needs a port: \(target.hostname) has several\n"))
        }
        return cluster(service: target, port: targetPort, subset: destination.subset)
    }

    /// The cluster for `service:port` (and `subset`), with the host's DestinationRule settings. A subset that
    /// no DestinationRule defines has no cluster: Envoy answers 503 with flag `NR`.
    func cluster(service: MeshService, port: UInt16, subset: String?) -> Result<UpstreamCluster, RequestPlan.LocalAnswer> {
        guard service.port(port) != nil else {
            return .failure(Self.noCluster("\(service.hostname) has no port \(port)\n"))
        }
        let rule = state.routing.destinationRules(service.hostname)
        var labels: [String: String] = [:]
        if let subset {
            guard let defined = rule?.subset(named: subset) else {
                return .failure(
                    Self.noCluster(
                        "subset \(subset) of \(service.hostname) is not defined by a DestinationRule; define it or route to another subset\n"
                    )
                )
            }
            labels = defined.labels
        }
        return .success(
            UpstreamCluster(
                service: service, port: port, subset: subset, subsetLabels: labels,
                settings: rule?.effectivePolicy(subset: subset, port: port) ?? .init()
            )
        )
    }

    static func noRoute(_ request: RouteRequest) -> RequestPlan.LocalAnswer {
        .init(status: 404, flag: "NR", details: "route_not_found", body: "no route for \(request.method) \(request.path)\n")
    }

    static func redirect(status: Int, location: String) -> RequestPlan.LocalAnswer {
        .init(status: status, flag: "-", details: "direct_response", body: "", headers: [HTTPHeaderField("location", location)])
    }

    static func noCluster(_ why: String) -> RequestPlan.LocalAnswer {
        .init(status: 503, flag: "NR", details: "cluster_not_found", body: why)
    }
}
