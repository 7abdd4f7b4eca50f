// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Validates an inbound HBONE target, in ztunnel's order: the authority must name the workload whose listener
/// took the connection (no relaying through a pod to another address), that workload must be served by this node,
/// and the port must not be one of the node's own.
public struct InboundPolicy: Sendable {
    /// Ports of the node itself; tunnelling to them would loop or stack tunnels.
    public static let forbiddenPorts: Set<UInt16> = [15001, 15006, 15008, 15080]

    public let node: String

    public init(node: String) {
        self.node = node
    }

    public enum Verdict: Hashable, Sendable {
        case allow(Workload)
        case reject(status: Int, reason: String)
    }

    /// - Parameters:
    ///   - authority: the CONNECT `:authority`.
    ///   - listenerIP: the local address the HBONE connection arrived on.
    public func check(authority: HostPort, listenerIP: IPAddress?, snapshot: MeshSnapshot) -> Verdict {
        if let listenerIP, listenerIP != authority.ip {
            return .reject(
                status: 400,
                reason: "authority \(authority) does not match the address the connection arrived on (\(listenerIP))"
            )
        }
        guard let workload = snapshot.workloadsByIP[authority.ip] else {
            return .reject(status: 400, reason: "authority \(authority) is not a workload known to this node")
        }
        guard workload.node == node else {
            return .reject(
                status: 400,
                reason: "authority \(authority) is \(workload.namespace)/\(workload.name) on node \(workload.node ?? "none"), not on \(node)"
            )
        }
        if Self.forbiddenPorts.contains(authority.port) {
            return .reject(status: 400, reason: "port \(authority.port) is reserved for the node proxy and cannot be a tunnel target")
        }
        return .allow(workload)
    }
}
