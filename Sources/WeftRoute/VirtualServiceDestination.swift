// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Istio's `Destination`: a service host, optionally a subset that a DestinationRule for that host
/// defines, and a port.
public struct VirtualServiceDestination: Hashable, Sendable, CustomStringConvertible {
    /// The cluster DNS suffix short names are completed with.
    public static let clusterDomain = "svc.cluster.local"

    /// `host`: as written in a spec; fully qualified (``resolved(namespace:)``) in a table's selections.
    public var host: String
    /// `subset`, a name from a DestinationRule's `subsets`.
    public var subset: String?
    /// `port.number`; `nil` uses the Service's only port (or the request's port).
    public var port: UInt16?

    /// Creates a destination.
    public init(host: String, subset: String? = nil, port: UInt16? = nil) {
        self.host = host
        self.subset = subset
        self.port = port
    }

    /// The destination with its host fully qualified: a short name (no dot) is a Service in `namespace`,
    /// `reviews` → `reviews.<namespace>.svc.cluster.local`; a name with a dot is used as written.
    public func resolved(namespace: String) -> Self {
        var copy = self
        copy.host = Self.qualify(host, namespace: namespace)
        return copy
    }

    /// `host` fully qualified in `namespace` (see ``resolved(namespace:)``); wildcards are kept.
    public static func qualify(_ host: String, namespace: String) -> String {
        host.contains(".") || host == "*" ? host : "\(host).\(namespace).\(clusterDomain)"
    }

    /// `host`, `host/subset`, `host:port` or `host/subset:port`.
    public var description: String {
        host + (subset.map { "/\($0)" } ?? "") + (port.map { ":\($0)" } ?? "")
    }
}
