// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The nftables rule set Weft installs inside one pod's network namespace, rendered as text by pure code.
///
/// One table of its own (`inet weft`), replaced atomically: the script creates the table if missing, deletes
/// it and declares it anew in a single transaction, so there is never a moment without redirection and nothing
/// else in the pod's namespace is touched.
///
/// - Outbound TCP, except loopback and the node's own marked sockets, goes to the outbound listener (15001).
/// - Inbound TCP, except to the HBONE port (15008) and the node's own marked traffic, goes to the inbound
///   plaintext listener (15006).
///
/// Fail-closed by construction: the rules do not depend on the daemon. If it dies, redirected connections hit
/// ports where nothing listens and are refused; no plaintext leaves the pod.
public struct RedirectRules: Hashable, Sendable {
    public var table: String = "weft"
    /// Mark on the node's own sockets (ztunnel's 0x539 = 1337), matched under `markMask`.
    public var mark: UInt32 = 0x539
    public var markMask: UInt32 = 0xfff
    public var outboundPort: UInt16 = 15001
    public var inboundPlaintextPort: UInt16 = 15006
    public var hbonePort: UInt16 = 15008
    /// Connection mark of connections the node made with a spoofed source (ztunnel/istio-cni's 0x111), and the
    /// routing table that sends their replies back to the node's transparent socket.
    public var connectionMark: UInt32 = 0x111
    public var localRouteTable: UInt32 = 100
    public var localRoutePriority: UInt32 = 32764

    public init() {}

    /// The script that installs (or atomically replaces) the table.
    public var installScript: String {
        let mark = "meta mark & \(hex(markMask)) == \(hex(self.mark)) return"
        return """
            table inet \(table)
            delete table inet \(table)
            table inet \(table) {
            \tchain prerouting {
            \t\ttype nat hook prerouting priority -100; policy accept;
            \t\t\(mark)
            \t\tip daddr 127.0.0.0/8 return
            \t\tip6 daddr ::1 return
            \t\ttcp dport \(hbonePort) return
            \t\tmeta l4proto tcp redirect to :\(inboundPlaintextPort)
            \t}
            \tchain mangle_output {
            \t\ttype route hook output priority -150; policy accept;
            \t\tmeta mark & \(hex(markMask)) == \(hex(self.mark)) ct mark set ct mark & \(hex(~markMask)) | \(hex(connectionMark)) return
            \t\tct mark & \(hex(markMask)) == \(hex(connectionMark)) meta mark set ct mark
            \t}
            \tchain output {
            \t\ttype nat hook output priority -100; policy accept;
            \t\t\(mark)
            \t\toifname "lo" return
            \t\tmeta l4proto tcp redirect to :\(outboundPort)
            \t}
            }

            """
    }

    /// The script that removes the table (pod removed from the mesh).
    public var removeScript: String {
        "table inet \(table)\ndelete table inet \(table)\n"
    }

    private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
