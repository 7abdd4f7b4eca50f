// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging

/// The access-log line of one closed connection: ztunnel's `connection complete` fields, in a fixed order,
/// with `-` for what is unknown. Logged by the node at `info` under the logger `weft.access`, whose format
/// (text, JSON or off) is set separately from the daemon's own log (`--access-log`).
public struct AccessLogRecord: Sendable {
    /// The fields in output order.
    public let fields: [(key: String, value: String)]

    public init(_ report: ConnectionReport) {
        func v(_ value: String?) -> String { value ?? "-" }
        var fields: [(String, String)] = [
            ("direction", report.direction.rawValue),
            ("src.addr", v(report.source.address)),
            ("src.workload", v(report.source.workload)),
            ("src.namespace", v(report.source.namespace)),
            ("src.identity", v(report.source.principal)),
            ("dst.addr", v(report.destination.address)),
            ("dst.hbone_addr", v(report.hboneAddress)),
            ("dst.service", v(report.service?.hostname)),
            ("dst.workload", v(report.destination.workload)),
            ("dst.namespace", v(report.destination.namespace)),
            ("dst.identity", v(report.destination.principal)),
            ("security", report.security.rawValue),
            ("bytes_sent", String(report.responseBytes)),
            ("bytes_recv", String(report.requestBytes)),
            ("duration", Self.milliseconds(report.duration)),
            ("response_flags", report.responseFlag?.rawValue ?? "-"),
        ]
        if let error = report.error { fields.append(("error", error)) }
        self.fields = fields.map { (key: $0.0, value: $0.1) }
    }

    /// The value of `key`, if present.
    public subscript(key: String) -> String? {
        fields.first { $0.key == key }?.value
    }

    /// `12ms`, or `0.42ms` below one millisecond.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        if micros >= 1000 { return "\(micros / 1000)ms" }
        let hundredths = micros / 10
        return "0.\(hundredths < 10 ? "0" : "")\(hundredths)ms"
    }

    /// The fields as swift-log metadata (the log handler renders text or JSON).
    public var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for (key, value) in fields { metadata[key] = .string(value) }
        return metadata
    }
}
