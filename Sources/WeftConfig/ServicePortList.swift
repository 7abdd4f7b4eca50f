// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Accumulates the ports of a Service or ServiceEntry, rejecting duplicate names and numbers.
struct ServicePortList {
    /// The accepted ports, in declaration order.
    private(set) var ports: [ServicePort] = []
    private var pathByName: [String: String] = [:]
    private var pathByNumber: [UInt16: String] = [:]

    /// Adds `port`, declared by the list item `item`, unless its name or number repeats an earlier port
    /// (reported as an error at the name or number field).
    mutating func append(_ port: ServicePort, item: YAMLField, numberKey: String, reader: ObjectReader) {
        if let name = port.name, let first = pathByName[name] {
            let field = item.child("name") ?? item
            reader.error("port name \"\(name)\" is already used by \(first); give each port a unique name", at: field)
            return
        }
        if let first = pathByNumber[port.port] {
            let field = item.child(numberKey) ?? item
            reader.error(
                "port \(port.port) is already declared by \(first); declare each port number once", at: field)
            return
        }
        if let name = port.name { pathByName[name] = item.path }
        pathByNumber[port.port] = item.path
        ports.append(port)
    }

    /// The application protocol a port name implies, as Istio reads it: `http`, `http-web`, `grpc-api`…
    static func inferredAppProtocol(fromName name: String?) -> String? {
        guard let name = name?.lowercased() else { return nil }
        let known = ["grpc-web", "http2", "https", "http", "grpc", "tcp", "tls", "mongo", "mysql", "redis"]
        return known.first { name == $0 || name.hasPrefix($0 + "-") }
    }

    /// Reads a port's L4 protocol field; returns `false` (after a warning or an error) when the port is
    /// not TCP and must be skipped.
    static func isTCP(_ item: YAMLField, key: String, reader: ObjectReader, allowed: Set<String>) -> Bool {
        guard let field = item.child(key), let value = reader.string(field) else { return true }
        let upper = value.uppercased()
        if upper == "UDP" || upper == "SCTP" {
            let message = "protocol \(value) is not supported (Weft carries TCP only); this port is skipped"
            reader.warning(message, at: field)
            return false
        }
        if !allowed.contains(upper) {
            let list = allowed.sorted().joined(separator: ", ")
            reader.error("unknown protocol \"\(value)\"; use one of \(list)", at: field)
            return false
        }
        return true
    }
}
