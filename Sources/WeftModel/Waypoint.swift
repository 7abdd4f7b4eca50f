// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An L7 waypoint: a Gateway API `Gateway` with `gatewayClassName: istio-waypoint`, and the workloads
/// that run it.
///
/// Services, workloads and namespaces opt in with the label `istio.io/use-waypoint: <name>` (plus
/// `istio.io/use-waypoint-namespace` for a waypoint in another namespace); which of them a waypoint
/// accepts is its ``waypointFor`` (label `istio.io/waypoint-for` on the Gateway). The snapshot resolves
/// the labels: see ``MeshSnapshot/waypoint(forService:)`` and ``MeshSnapshot/waypoint(forWorkload:)``.
public struct Waypoint: Hashable, Sendable {
    /// The labels and names Istio defines for waypoints.
    public enum Labels {
        /// On a Namespace, Service, ServiceEntry, Pod or WorkloadEntry: the waypoint to use, or `none`.
        public static let useWaypoint = "istio.io/use-waypoint"
        /// Next to ``useWaypoint``: the waypoint's namespace, when it is not the object's own.
        public static let useWaypointNamespace = "istio.io/use-waypoint-namespace"
        /// On the Gateway: which traffic the waypoint accepts (``TrafficType``).
        public static let waypointFor = "istio.io/waypoint-for"
        /// On the waypoint's pods: the Gateway they run (Istio sets it on the Deployment it creates).
        public static let gatewayName = "gateway.networking.k8s.io/gateway-name"
        /// The `gatewayClassName` that makes a Gateway a waypoint.
        public static let gatewayClassName = "istio-waypoint"
        /// The ``useWaypoint`` value that opts out of a namespace's waypoint (a reserved waypoint name).
        public static let none = "none"
    }

    /// `istio.io/waypoint-for`: the traffic a waypoint accepts.
    public enum TrafficType: String, Hashable, Sendable, CaseIterable {
        /// Traffic addressed to a Service (its VIP): the default.
        case service
        /// Traffic addressed to a workload's own IP.
        case workload
        /// Both.
        case all
        /// Neither: nothing attaches.
        case none

        /// Whether Services and ServiceEntries may use the waypoint.
        public var servesServices: Bool { self == .service || self == .all }
        /// Whether Pods and WorkloadEntries may use the waypoint.
        public var servesWorkloads: Bool { self == .workload || self == .all }
    }

    /// An entry of the Gateway's `spec.listeners`.
    public struct Listener: Hashable, Sendable {
        /// `allowedRoutes.namespaces.from`: the namespaces whose routes may name this Gateway as a parent.
        public enum AllowedRoutes: Hashable, Sendable {
            /// `Same` (the default): only the Gateway's own namespace.
            case same
            /// `All`: every namespace.
            case all
            /// `Selector`: namespaces whose labels match.
            case selector(LabelSelector)
        }

        /// The HBONE port every Istio waypoint listens on.
        public static let hbonePort: UInt16 = 15008

        /// `name`.
        public var name: String
        /// `port`.
        public var port: UInt16
        /// `protocol`, as written (`HBONE` for a waypoint's mesh listener).
        public var `protocol`: String
        /// `allowedRoutes.namespaces`.
        public var allowedRoutes: AllowedRoutes

        /// Creates a listener.
        public init(name: String, port: UInt16, protocol: String, allowedRoutes: AllowedRoutes = .same) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
            self.allowedRoutes = allowedRoutes
        }

        /// Whether this is the mesh listener: port 15008, protocol `HBONE`.
        public var isHBONE: Bool { port == Self.hbonePort && self.protocol == "HBONE" }
    }

    /// `metadata.namespace`.
    public var namespace: String
    /// `metadata.name`.
    public var name: String
    /// Where the Gateway was declared.
    public var location: ManifestLocation
    /// The Gateway's `istio.io/waypoint-for` label; ``TrafficType/service`` when absent, as istiod defaults it.
    public var waypointFor: TrafficType
    /// `spec.listeners`.
    public var listeners: [Listener]
    /// `Kind/namespace/name` of the Pods and WorkloadEntries labelled
    /// `gateway.networking.k8s.io/gateway-name: <name>` in the Gateway's namespace, in load order.
    public var workloads: [String]
    /// Their addresses, in the same order: where clients send HBONE (port 15008) for this waypoint.
    public var addresses: [IPAddress]

    /// Creates a waypoint.
    public init(
        namespace: String,
        name: String,
        location: ManifestLocation,
        waypointFor: TrafficType = .service,
        listeners: [Listener] = [],
        workloads: [String] = [],
        addresses: [IPAddress] = []
    ) {
        self.namespace = namespace
        self.name = name
        self.location = location
        self.waypointFor = waypointFor
        self.listeners = listeners
        self.workloads = workloads
        self.addresses = addresses
    }

    /// `namespace/name`, the key the snapshot indexes waypoints by.
    public var key: String { "\(namespace)/\(name)" }

    /// The mesh listener (port 15008, `HBONE`), if declared.
    public var hboneListener: Listener? { listeners.first(where: \.isHBONE) }

    /// Whether objects and routes in `namespace` (labelled `namespaceLabels`) may use this waypoint: the
    /// `allowedRoutes.namespaces` of its HBONE listener, as istiod checks for `istio.io/use-waypoint`
    /// from another namespace. Without an HBONE listener, or by default, only the waypoint's own namespace.
    public func allowsAttachment(fromNamespace namespace: String, namespaceLabels: [String: String]) -> Bool {
        if namespace == self.namespace { return true }
        switch hboneListener?.allowedRoutes ?? .same {
        case .same: return false
        case .all: return true
        case .selector(let selector): return selector.matches(namespaceLabels)
        }
    }
}
