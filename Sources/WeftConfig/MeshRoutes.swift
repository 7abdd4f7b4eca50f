// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// The HTTPRoutes and GRPCRoutes of a load, with the routes attached to each Service port and their
/// compiled ``RouteTable``s, for the waypoint.
///
/// A route attaches to a Service port through a `parentRefs` entry naming the Service (GAMMA: every port,
/// or the one given by `port` or `sectionName`), or through one naming a waypoint Gateway, which attaches it
/// to every port of every Service that uses that waypoint (``MeshSnapshot/waypoint(forService:)``). Such a
/// route is returned with a Service parent reference for the port added, so that ``RouteTable`` attaches
/// it. HTTPRoutes and GRPCRoutes are kept apart: Gateway API never merges them.
///
/// This lives in WeftConfig rather than in ``MeshSnapshot`` because WeftModel cannot depend on WeftRoute,
/// whose types the routes are. Immutable and `Sendable`: a reload builds a new one with the snapshot.
public struct MeshRoutes: Sendable {
    /// Every HTTPRoute, in load order, as translated (a Service `sectionName` resolved to its port).
    public let httpRoutes: [HTTPRouteSpec]
    /// Every GRPCRoute, in load order, its method matches as path matches (``GRPCMethodMatch``).
    public let grpcRoutes: [HTTPRouteSpec]
    /// The routes attached to each Service port, and the compiled tables, per kind.
    private let http: [RouteParent: (routes: [HTTPRouteSpec], table: RouteTable)]
    private let grpc: [RouteParent: (routes: [HTTPRouteSpec], table: RouteTable)]

    /// Creates an empty set of routes.
    public init() {
        self.init(httpRoutes: [], grpcRoutes: [], http: [:], grpc: [:])
    }

    init(
        httpRoutes: [HTTPRouteSpec], grpcRoutes: [HTTPRouteSpec],
        http: [RouteParent: (routes: [HTTPRouteSpec], table: RouteTable)],
        grpc: [RouteParent: (routes: [HTTPRouteSpec], table: RouteTable)]
    ) {
        self.httpRoutes = httpRoutes
        self.grpcRoutes = grpcRoutes
        self.http = http
        self.grpc = grpc
    }

    /// The Service ports with at least one route attached, sorted by namespace, name and port.
    public var parents: [RouteParent] {
        Set(http.keys).union(grpc.keys).sorted { ($0.namespace, $0.name, $0.port) < ($1.namespace, $1.name, $1.port) }
    }

    /// The HTTPRoutes attached to a Service port, oldest first.
    public func httpRoutes(attachedTo parent: RouteParent) -> [HTTPRouteSpec] { http[parent]?.routes ?? [] }

    /// The HTTPRoutes attached to port `port` of the Service `namespace/name`, oldest first.
    public func httpRoutes(namespace: String, service: String, port: UInt16) -> [HTTPRouteSpec] {
        httpRoutes(attachedTo: RouteParent(namespace: namespace, name: service, port: port))
    }

    /// The GRPCRoutes attached to a Service port, oldest first.
    public func grpcRoutes(attachedTo parent: RouteParent) -> [HTTPRouteSpec] { grpc[parent]?.routes ?? [] }

    /// The GRPCRoutes attached to port `port` of the Service `namespace/name`, oldest first.
    public func grpcRoutes(namespace: String, service: String, port: UInt16) -> [HTTPRouteSpec] {
        grpcRoutes(attachedTo: RouteParent(namespace: namespace, name: service, port: port))
    }

    /// The compiled HTTPRoute table of a Service port, or `nil` when no HTTPRoute is attached. Backends are
    /// resolved against the snapshot: a core Service that exists is valid, a missing one is
    /// `BackendNotFound` and any other kind `InvalidKind` (that share of traffic gets HTTP 500).
    public func httpRouteTable(for parent: RouteParent) -> RouteTable? { http[parent]?.table }

    /// The compiled GRPCRoute table of a Service port, or `nil` when no GRPCRoute is attached.
    public func grpcRouteTable(for parent: RouteParent) -> RouteTable? { grpc[parent]?.table }
}
