// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A `backendRefs[]` entry of a rule: a weighted backend with filters that run only when it is picked.
public struct HTTPBackendRef: Hashable, Sendable {
    /// The largest weight Gateway API accepts.
    public static let maximumWeight = 1_000_000

    /// The object traffic goes to.
    public var backend: BackendObjectReference
    /// `weight`: the share is weight / sum of the rule's weights. Default 1; 0 sends no traffic.
    public var weight: Int
    /// `filters`: applied after the rule's filters when this backend is chosen.
    public var filters: [HTTPRouteFilter]

    /// Creates a backend reference.
    public init(_ backend: BackendObjectReference, weight: Int = 1, filters: [HTTPRouteFilter] = []) {
        self.backend = backend
        self.weight = weight
        self.filters = filters
    }

    /// Creates a reference to a Service port.
    public init(
        service name: String,
        namespace: String? = nil,
        port: UInt16?,
        weight: Int = 1,
        filters: [HTTPRouteFilter] = []
    ) {
        self.init(
            BackendObjectReference(name: name, namespace: namespace, port: port),
            weight: weight,
            filters: filters
        )
    }
}

/// Gateway API's `BackendObjectReference`: the target of a `backendRef` or of a `RequestMirror`.
public struct BackendObjectReference: Hashable, Sendable {
    /// The API group; `""` for a Service.
    public var group: String
    /// The kind; `Service` by default.
    public var kind: String
    /// The name.
    public var name: String
    /// The namespace; `nil` means the route's namespace (another one needs a ReferenceGrant).
    public var namespace: String?
    /// The port; required for a Service.
    public var port: UInt16?

    /// Creates a reference, a Service by default.
    public init(group: String = "", kind: String = "Service", name: String, namespace: String? = nil, port: UInt16?) {
        self.group = group
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.port = port
    }

    /// The reference with its namespace resolved against the route's.
    public func resolved(routeNamespace: String) -> RouteBackend {
        RouteBackend(group: group, kind: kind, namespace: namespace ?? routeNamespace, name: name, port: port)
    }
}

/// A backend with its namespace resolved: what a selection forwards to, and what the backend resolver
/// passed to ``RouteTable/init(parent:routes:resolveBackend:)`` judges.
public struct RouteBackend: Hashable, Sendable, CustomStringConvertible {
    /// The API group; `""` for a Service.
    public var group: String
    /// The kind, such as `Service`.
    public var kind: String
    /// The namespace.
    public var namespace: String
    /// The name.
    public var name: String
    /// The port, if the reference had one.
    public var port: UInt16?

    /// Creates a backend.
    public init(group: String = "", kind: String = "Service", namespace: String, name: String, port: UInt16?) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.port = port
    }

    /// Whether this is a core Service.
    public var isService: Bool { (group.isEmpty || group == "core") && kind == "Service" }

    /// `namespace/name:port` for a Service, with `group/kind ` in front for other kinds.
    public var description: String {
        let object = "\(namespace)/\(name)" + (port.map { ":\($0)" } ?? "")
        return isService ? object : "\(group.isEmpty ? "core" : group)/\(kind) \(object)"
    }
}

/// What the backend resolver says about a backend: usable, or invalid with Gateway API's
/// `ResolvedRefs` reason. Traffic for an invalid backend's share gets HTTP 500.
public enum BackendStatus: Hashable, Sendable {
    /// The backend can receive traffic.
    case valid
    /// The backend's share of traffic gets 500, for this reason.
    case invalid(Reason)

    /// Gateway API's `ResolvedRefs=False` reasons.
    public enum Reason: String, Hashable, Sendable {
        /// Not a kind the mesh can route to.
        case invalidKind = "InvalidKind"
        /// The object does not exist.
        case backendNotFound = "BackendNotFound"
        /// Another namespace, without a ReferenceGrant allowing it.
        case refNotPermitted = "RefNotPermitted"
        /// The backend's `appProtocol` cannot carry the route's traffic.
        case unsupportedProtocol = "UnsupportedProtocol"
    }

    /// The resolver used when none is given: a core Service is valid, any other kind is `InvalidKind`.
    public static func servicesOnly(_ backend: RouteBackend) -> BackendStatus {
        backend.isService ? .valid : .invalid(.invalidKind)
    }
}
