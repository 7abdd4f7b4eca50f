// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The shape of a local lab, computed by pure code: namespaces, links, addresses and the manifests that
/// describe it. ``LabRunner`` builds it on the host.
///
/// Addressing: nodes sit on one link `10.100.0.0/24` (node *i* is `10.100.0.i`) through a switch namespace
/// with a bridge; pod *j* of node *i* is `10.<20+i>.<j>.2/24` behind its node (`10.<20+i>.<j>.1`); every node
/// routes the other nodes' pod ranges `10.<20+k>.0.0/16` via `10.100.0.k`. Service `echo` has VIP `10.96.0.10`.
public struct LabPlan: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public var index: Int
        public var name: String  // manifest node name, e.g. node-1
        public var netns: String  // weft-lab-n1
        public var linkIP: String  // 10.100.0.1
        public var podRange: String  // 10.21.0.0/16
        public var pods: [Pod]
    }

    public struct Pod: Sendable, Equatable {
        public var name: String  // echo-1-2
        public var netns: String  // weft-lab-n1-p2
        public var ip: String  // 10.21.2.2
        public var gateway: String  // 10.21.2.1
        public var serviceAccount: String
        public var hostVeth: String  // wl1p2h (in the node netns)
        public var podVeth: String  // wl1p2 (in the pod netns)
    }

    public static let prefix = "weft-lab-"
    public static let switchNetns = "weft-lab-sw"
    public static let serviceVIP = "10.96.0.10"
    public static let echoPort: UInt16 = 8080
    public static let servicePort: UInt16 = 80
    public static let namespace = "lab"

    public var nodes: [Node]
    /// An extra pod outside the mesh (not enrolled), on node 1, to show PERMISSIVE.
    public var outsider: Pod
    /// The waypoint's pod (`weft waypoint`), behind node 1 but served by no node, when the lab has one: the
    /// namespace is labelled `istio.io/use-waypoint: waypoint`, so Service traffic goes through it.
    public var waypoint: Pod?

    /// A namespace the lab can put behind a waypoint (`weft lab up --waypoint <namespace>`).
    public static let waypointNamespaces = [namespace]

    public init(nodes nodeCount: Int, podsPerNode: Int, waypoint: Bool = false) {
        precondition((1...9).contains(nodeCount) && (1...9).contains(podsPerNode))
        nodes = (1...nodeCount).map { i in
            Node(
                index: i, name: "node-\(i)", netns: "\(Self.prefix)n\(i)", linkIP: "10.100.0.\(i)",
                podRange: "10.\(20 + i).0.0/16",
                pods: (1...podsPerNode).map { j in
                    Pod(
                        name: "echo-\(i)-\(j)", netns: "\(Self.prefix)n\(i)-p\(j)", ip: "10.\(20 + i).\(j).2",
                        gateway: "10.\(20 + i).\(j).1", serviceAccount: j % 2 == 1 ? "echo" : "client",
                        hostVeth: "wl\(i)p\(j)h", podVeth: "wl\(i)p\(j)"
                    )
                }
            )
        }
        outsider = Pod(
            name: "outsider", netns: "\(Self.prefix)n1-out", ip: "10.21.99.2", gateway: "10.21.99.1",
            serviceAccount: "default", hostVeth: "wl1oh", podVeth: "wl1o"
        )
        if waypoint {
            self.waypoint = Pod(
                name: "waypoint", netns: "\(Self.prefix)n1-wp", ip: "10.21.98.2", gateway: "10.21.98.1",
                serviceAccount: "waypoint", hostVeth: "wl1wh", podVeth: "wl1w"
            )
        }
    }

    /// The pods attached behind node 1 besides the echo pods.
    var extraPods: [Pod] { [outsider] + (waypoint.map { [$0] } ?? []) }

    /// All namespaces the lab creates.
    public var namespaces: [String] {
        [Self.switchNetns] + nodes.flatMap { [$0.netns] + $0.pods.map(\.netns) } + extraPods.map(\.netns)
    }

    /// The manifests: the mesh namespace (ambient), every pod with its netns annotation, the outsider pod (opted
    /// out), and one Service over all echo pods.
    public var manifests: String {
        var docs: [String] = [
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: \(Self.namespace), labels: {istio.io/dataplane-mode: ambient\(waypoint == nil ? "" : ", istio.io/use-waypoint: waypoint")}}
            """
        ]
        if let waypoint {
            // The waypoint: a Gateway, and its pod (no netns annotation and no node of the lab: only
            // `weft waypoint` serves it).
            docs.append(
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: waypoint, namespace: \(Self.namespace)}
                spec:
                  gatewayClassName: istio-waypoint
                  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
                """
            )
            docs.append(
                """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: \(waypoint.name)
                  namespace: \(Self.namespace)
                  labels: {gateway.networking.k8s.io/gateway-name: waypoint}
                spec: {serviceAccountName: \(waypoint.serviceAccount), nodeName: waypoints}
                status: {podIP: \(waypoint.ip)}
                """
            )
        }
        for node in nodes {
            for pod in node.pods {
                docs.append(
                    """
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: \(pod.name)
                      namespace: \(Self.namespace)
                      labels: {app: echo}
                      annotations: {weft.dev/netns: \(pod.netns)}
                    spec: {serviceAccountName: \(pod.serviceAccount), nodeName: \(node.name)}
                    status: {podIP: \(pod.ip)}
                    """
                )
            }
        }
        docs.append(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: \(outsider.name)
              namespace: \(Self.namespace)
              labels: {app: outsider, istio.io/dataplane-mode: none}
              annotations: {weft.dev/netns: \(outsider.netns)}
            spec: {nodeName: \(nodes[0].name)}
            status: {podIP: \(outsider.ip)}
            """
        )
        docs.append(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: echo, namespace: \(Self.namespace)}
            spec:
              clusterIP: \(Self.serviceVIP)
              selector: {app: echo}
              ports: [{name: tcp-echo, port: \(Self.servicePort), targetPort: \(Self.echoPort)}]
            """
        )
        return docs.joined(separator: "\n---\n") + "\n"
    }

    /// The `ip` commands that build the topology, in order.
    public var setupCommands: [[String]] {
        var c: [[String]] = []
        for ns in namespaces { c.append(["ip", "netns", "add", ns]) }
        let sw = Self.switchNetns
        c.append(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"])
        c.append(["ip", "-n", sw, "link", "set", "br0", "up"])
        for node in nodes {
            let swSide = "wlsw\(node.index)"
            c.append(["ip", "link", "add", swSide, "netns", sw, "type", "veth", "peer", "name", "eth0", "netns", node.netns])
            c.append(["ip", "-n", sw, "link", "set", swSide, "master", "br0", "up"])
            c.append(["ip", "-n", node.netns, "addr", "add", "\(node.linkIP)/24", "dev", "eth0"])
            c.append(["ip", "-n", node.netns, "link", "set", "eth0", "up"])
            c.append(["ip", "-n", node.netns, "link", "set", "lo", "up"])
            c.append(["ip", "netns", "exec", node.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
            var pods = node.pods
            if node.index == 1 { pods += extraPods }
            for pod in pods {
                c.append(["ip", "link", "add", pod.hostVeth, "netns", node.netns, "type", "veth", "peer", "name", "eth0", "netns", pod.netns])
                c.append(["ip", "-n", node.netns, "addr", "add", "\(pod.gateway)/24", "dev", pod.hostVeth])
                c.append(["ip", "-n", node.netns, "link", "set", pod.hostVeth, "up"])
                c.append(["ip", "-n", pod.netns, "addr", "add", "\(pod.ip)/24", "dev", "eth0"])
                c.append(["ip", "-n", pod.netns, "link", "set", "eth0", "up"])
                c.append(["ip", "-n", pod.netns, "link", "set", "lo", "up"])
                c.append(["ip", "-n", pod.netns, "route", "add", "default", "via", pod.gateway])
            }
            for other in nodes where other.index != node.index {
                c.append(["ip", "-n", node.netns, "route", "add", other.podRange, "via", other.linkIP])
            }
        }
        return c
    }
}
