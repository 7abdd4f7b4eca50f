// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A Gateway API `HTTPRoute` (gateway.networking.k8s.io/v1) as the waypoint uses it: attached to
/// Services (GAMMA), with its rules in declaration order.
///
/// The configuration loader fills this from manifests, after rejecting what the API server's schema
/// would (unknown enum values, over-long lists); ``RouteTable`` performs the remaining checks and reports
/// problems as ``RouteCompileError``s naming the field.
public struct HTTPRouteSpec: Hashable, Sendable {
    /// An entry of `spec.parentRefs`. Only `group: ""`, `kind: Service` entries attach a route to the
    /// mesh; others (a `Gateway` parent, for instance) are ignored by ``RouteTable``.
    public struct ParentReference: Hashable, Sendable {
        /// The API group; `""` (or `core`) for a Service.
        public var group: String
        /// The kind; `Service` for mesh routes.
        public var kind: String
        /// The Service's namespace; `nil` means the route's own namespace.
        public var namespace: String?
        /// The Service's name.
        public var name: String
        /// The Service port the route applies to; `nil` applies it to every port of the Service.
        public var port: UInt16?

        /// Creates a parent reference, a Service by default.
        public init(
            group: String = "",
            kind: String = "Service",
            namespace: String? = nil,
            name: String,
            port: UInt16? = nil
        ) {
            self.group = group
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.port = port
        }

        /// Whether this reference names the Service port `parent`, for a route in `routeNamespace`.
        public func attaches(to parent: RouteParent, routeNamespace: String) -> Bool {
            (group.isEmpty || group == "core") && kind == "Service" && name == parent.name
                && (namespace ?? routeNamespace) == parent.namespace && (port == nil || port == parent.port)
        }
    }

    /// `metadata.namespace`.
    public var namespace: String
    /// `metadata.name`.
    public var name: String
    /// Where the route was declared (`file:line`), for diagnostics; opaque to routing.
    public var location: String?
    /// The route's age for the precedence tie-break: smaller is older. Use `metadata.creationTimestamp`
    /// in seconds (or any key that increases with creation, such as the manifest load order).
    public var creationOrder: Int64
    /// `spec.parentRefs`.
    public var parentRefs: [ParentReference]
    /// `spec.hostnames`: precise names or `*.` wildcards. Empty matches every host.
    public var hostnames: [String]
    /// `spec.rules`, in order.
    public var rules: [HTTPRouteRule]

    /// Creates a route.
    public init(
        namespace: String,
        name: String,
        location: String? = nil,
        creationOrder: Int64 = 0,
        parentRefs: [ParentReference],
        hostnames: [String] = [],
        rules: [HTTPRouteRule]
    ) {
        self.namespace = namespace
        self.name = name
        self.location = location
        self.creationOrder = creationOrder
        self.parentRefs = parentRefs
        self.hostnames = hostnames
        self.rules = rules
    }

    /// Whether any parent reference names the Service port `parent`.
    public func attaches(to parent: RouteParent) -> Bool {
        parentRefs.contains { $0.attaches(to: parent, routeNamespace: namespace) }
    }

    /// The route's identity for logs and selections.
    public var reference: RouteReference {
        RouteReference(namespace: namespace, name: name, location: location)
    }
}

/// A Service port that routes attach to: the parent a ``RouteTable`` is compiled for.
public struct RouteParent: Hashable, Sendable, CustomStringConvertible {
    /// The Service's namespace.
    public var namespace: String
    /// The Service's name.
    public var name: String
    /// The Service port (the port clients dial), also the listener port for scheme-less redirects.
    public var port: UInt16

    /// Creates a parent.
    public init(namespace: String, name: String, port: UInt16) {
        self.namespace = namespace
        self.name = name
        self.port = port
    }

    /// `Service namespace/name:port`.
    public var description: String { "Service \(namespace)/\(name):\(port)" }
}

/// Names a route in selections and errors, without its rules.
public struct RouteReference: Hashable, Sendable, CustomStringConvertible {
    /// The route's namespace.
    public var namespace: String
    /// The route's name.
    public var name: String
    /// Where it was declared (`file:line`), when known.
    public var location: String?

    /// Creates a reference.
    public init(namespace: String, name: String, location: String? = nil) {
        self.namespace = namespace
        self.name = name
        self.location = location
    }

    /// `namespace/name`: also the key of the alphabetical precedence tie-break.
    public var key: String { "\(namespace)/\(name)" }

    /// `HTTPRoute namespace/name (file:line)`.
    public var description: String {
        "HTTPRoute \(key)" + (location.map { " (\($0))" } ?? "")
    }
}
