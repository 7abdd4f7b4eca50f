// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// One end of a connection as metrics and access logs name it, with Istio's conventions: canonical service and
/// revision from the workload's labels, `app`/`version` equal to those (as ztunnel reports them), and every
/// unknown value left `nil` (rendered `unknown` in metrics, `-` in access logs).
public struct TrafficPeer: Hashable, Sendable {
    public var workload: String?
    public var namespace: String?
    /// The full SPIFFE ID, `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`.
    public var principal: String?
    public var canonicalService: String?
    public var canonicalRevision: String?
    public var cluster: String?
    /// `ip:port` as seen by the reporting node.
    public var address: String?

    public init(
        workload: String? = nil,
        namespace: String? = nil,
        principal: String? = nil,
        canonicalService: String? = nil,
        canonicalRevision: String? = nil,
        cluster: String? = nil,
        address: String? = nil
    ) {
        self.workload = workload
        self.namespace = namespace
        self.principal = principal
        self.canonicalService = canonicalService
        self.canonicalRevision = canonicalRevision
        self.cluster = cluster
        self.address = address
    }

    /// A peer known only by its address (plaintext from outside the mesh, passthrough).
    public static func address(_ address: String?) -> TrafficPeer {
        TrafficPeer(address: address)
    }

    /// A peer known only by its authenticated identity (an HBONE peer that is not in this node's configuration).
    public static func identity(_ identity: SPIFFEID, address: String?) -> TrafficPeer {
        TrafficPeer(namespace: identity.namespace, principal: identity.description, address: address)
    }

    /// A workload of the configuration, with the identity it runs as.
    public static func workload(
        _ workload: Workload,
        identity: SPIFFEID?,
        cluster: String?,
        address: String?
    ) -> TrafficPeer {
        TrafficPeer(
            workload: workload.name,
            namespace: workload.namespace,
            principal: identity?.description,
            canonicalService: canonicalService(of: workload),
            canonicalRevision: canonicalRevision(of: workload),
            cluster: cluster,
            address: address
        )
    }

    /// Istio's canonical service: `service.istio.io/canonical-name`, else `app.kubernetes.io/name`, else `app`,
    /// else the workload's name.
    public static func canonicalService(of workload: Workload) -> String {
        workload.labels["service.istio.io/canonical-name"] ?? workload.labels["app.kubernetes.io/name"]
            ?? workload.labels["app"] ?? workload.name
    }

    /// Istio's canonical revision: `service.istio.io/canonical-revision`, else `app.kubernetes.io/version`, else
    /// `version`, else `latest`.
    public static func canonicalRevision(of workload: Workload) -> String {
        workload.labels["service.istio.io/canonical-revision"] ?? workload.labels["app.kubernetes.io/version"]
            ?? workload.labels["version"] ?? "latest"
    }
}

/// The Service a connection was addressed to, when known (by VIP, or from the HBONE `forwarded` host).
public struct TrafficService: Hashable, Sendable {
    /// The FQDN, such as `echo.lab.svc.cluster.local`.
    public var hostname: String
    public var name: String
    public var namespace: String

    public init(hostname: String, name: String, namespace: String) {
        self.hostname = hostname
        self.name = name
        self.namespace = namespace
    }
}
