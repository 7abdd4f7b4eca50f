// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A port of a Service: what clients dial (`port`) and what the endpoints listen on (`targetPort`).
public struct ServicePort: Hashable, Sendable {
    /// A Service's `targetPort`: a number, or the name of a port the endpoints declare.
    public enum Target: Hashable, Sendable {
        case number(UInt16)
        case named(String)
    }

    public var name: String?
    public var port: UInt16
    public var targetPort: Target
    /// `appProtocol`, or what the port name's prefix implies (`http-…`, `grpc-…`), as Istio does.
    public var appProtocol: String?

    public init(name: String? = nil, port: UInt16, targetPort: Target? = nil, appProtocol: String? = nil) {
        self.name = name
        self.port = port
        self.targetPort = targetPort ?? .number(port)
        self.appProtocol = appProtocol
    }
}

/// A set of endpoints reachable at virtual addresses: a Kubernetes Service or an Istio ServiceEntry.
public struct MeshService: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case service = "Service"
        case serviceEntry = "ServiceEntry"
    }

    public var kind: Kind
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    /// `name.namespace.svc.cluster.local` for a Service; the first host for a ServiceEntry.
    public var hostname: String
    /// The virtual IPs clients dial (`clusterIP`, ServiceEntry `addresses`).
    public var vips: [IPAddress]
    public var ports: [ServicePort]
    /// Which workloads are endpoints. `nil` means no selector (endpoints managed elsewhere).
    public var selector: LabelSelector?
    /// Endpoints declared inline by a ServiceEntry (its `endpoints` list).
    public var inlineEndpoints: [Workload]

    public init(
        kind: Kind = .service,
        name: String,
        namespace: String,
        labels: [String: String] = [:],
        hostname: String,
        vips: [IPAddress],
        ports: [ServicePort],
        selector: LabelSelector?,
        inlineEndpoints: [Workload] = []
    ) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.hostname = hostname
        self.vips = vips
        self.ports = ports
        self.selector = selector
        self.inlineEndpoints = inlineEndpoints
    }

    /// Stable key, `Kind/namespace/name`.
    public var uid: String { "\(kind.rawValue)/\(namespace)/\(name)" }

    public func port(_ number: UInt16) -> ServicePort? { ports.first { $0.port == number } }
}
