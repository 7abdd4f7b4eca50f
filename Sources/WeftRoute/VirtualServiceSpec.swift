// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An Istio VirtualService (`networking.istio.io`), its `http` part: the hosts it applies to and its
/// ordered rules. ``VirtualServiceTable`` compiles it.
public struct VirtualServiceSpec: Hashable, Sendable {
    /// The namespace, against which short host names resolve.
    public var namespace: String
    /// The name.
    public var name: String
    /// `hosts`, as written (short names allowed).
    public var hosts: [String]
    /// `gateways`; empty means the mesh. Any name other than `mesh` is a gateway the waypoint ignores.
    public var gateways: [String]
    /// `http[]`, in order: the first rule that matches wins.
    public var http: [VirtualServiceRule]
    /// Where it was declared (`file:line`), for messages.
    public var location: String?

    /// Creates a VirtualService.
    public init(
        namespace: String,
        name: String,
        hosts: [String],
        gateways: [String] = [],
        http: [VirtualServiceRule],
        location: String? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.hosts = hosts
        self.gateways = gateways
        self.http = http
        self.location = location
    }

    /// `namespace/name`.
    public var key: String { "\(namespace)/\(name)" }

    /// Whether the VirtualService applies to mesh (sidecar and waypoint) traffic: `gateways` is empty
    /// or names `mesh`.
    public var appliesToMesh: Bool { gateways.isEmpty || gateways.contains("mesh") }

    /// `hosts` fully qualified in the VirtualService's namespace.
    public var resolvedHosts: [String] {
        hosts.map { VirtualServiceDestination.qualify($0, namespace: namespace) }
    }

    /// Whether one of ``resolvedHosts`` is `hostname`: equal ignoring ASCII case, or a `*.suffix`
    /// wildcard covering it, or `*`.
    public func applies(toHost hostname: String) -> Bool {
        resolvedHosts.contains { host in
            if host == "*" { return true }
            if host.hasPrefix("*.") {
                let suffix = host.dropFirst()
                return hostname.count > suffix.count && ASCII.equalsIgnoringCase(hostname.suffix(suffix.count), suffix)
            }
            return ASCII.equalsIgnoringCase(host, hostname)
        }
    }
}
