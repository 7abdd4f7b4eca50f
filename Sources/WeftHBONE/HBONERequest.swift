// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOHPACK
import WeftModel

/// The head of an HBONE request: an HTTP/2 `CONNECT` whose `:authority` is the tunnel target.
///
/// Pure: builds the header block a client sends and validates one a server receives, so both are tested
/// without a channel.
public struct HBONERequest: Hashable, Sendable {
    /// The tunnel target, `ip:port`.
    public var authority: HostPort
    /// The original client address, sent as `forwarded: for="ip:port"`.
    public var forwardedFor: HostPort?
    /// The intended destination service hostname, sent as `;host=` in `forwarded`.
    public var serviceHost: String?
    /// W3C `baggage` describing the source workload (ztunnel's keys).
    public var baggage: String?
    /// W3C `traceparent`, one per connection.
    public var traceparent: String?

    public init(
        authority: HostPort,
        forwardedFor: HostPort? = nil,
        serviceHost: String? = nil,
        baggage: String? = nil,
        traceparent: String? = nil
    ) {
        self.authority = authority
        self.forwardedFor = forwardedFor
        self.serviceHost = serviceHost
        self.baggage = baggage
        self.traceparent = traceparent
    }

    /// The header block a client sends. Plain CONNECT (RFC 9113 §8.5): no `:scheme`, no `:path`.
    public var headers: HPACKHeaders {
        var headers: HPACKHeaders = [":method": "CONNECT", ":authority": authority.description]
        if let forwardedFor {
            var value = "for=\"\(forwardedFor)\""
            if let serviceHost { value += ";host=\(serviceHost)" }
            headers.add(name: "forwarded", value: value)
        }
        if let baggage { headers.add(name: "baggage", value: baggage) }
        if let traceparent { headers.add(name: "traceparent", value: traceparent) }
        return headers
    }

    /// Why a received request head is refused, and with which status.
    public struct Rejection: Error, Hashable, Sendable, CustomStringConvertible {
        public var status: Int
        public var reason: String
        public init(status: Int, reason: String) {
            self.status = status
            self.reason = reason
        }
        public var description: String { "\(status): \(reason)" }
    }

    /// Validates a received header block. Only the shape is checked here; whether the target is served by
    /// this node, and whether the caller may reach it, is decided by the node.
    public init(parsing headers: HPACKHeaders) throws(Rejection) {
        let method = headers[":method"].first
        guard method == "CONNECT" else {
            throw Rejection(status: 400, reason: "method \(method.map { "'\($0)'" } ?? "missing"), HBONE only accepts CONNECT")
        }
        if headers[":protocol"].first != nil {
            throw Rejection(status: 400, reason: "extended CONNECT (:protocol) is not HBONE")
        }
        let authorities = headers[":authority"]
        guard authorities.count == 1, let raw = authorities.first else {
            throw Rejection(status: 400, reason: "CONNECT needs exactly one :authority, got \(authorities.count)")
        }
        guard let authority = HostPort(parsing: raw) else {
            throw Rejection(status: 400, reason: "malformed :authority '\(raw.prefix(100))', expected ip:port")
        }
        self.authority = authority
        self.forwardedFor = headers["forwarded"].first.flatMap(Self.parseForwardedFor)
        self.serviceHost = headers["forwarded"].first.flatMap(Self.parseForwardedHost)
        self.baggage = headers["baggage"].first
        self.traceparent = headers["traceparent"].first
    }

    /// Extracts `for="ip:port"` from a `forwarded` header value (RFC 7239).
    static func parseForwardedFor(_ value: String) -> HostPort? {
        for element in value.split(separator: ";") {
            let pair = element.trimmingCharacters(in: " ")
            guard pair.lowercased().hasPrefix("for=") else { continue }
            var v = pair.dropFirst(4)
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = v.dropFirst().dropLast() }
            return HostPort(parsing: v)
        }
        return nil
    }
}

extension HBONERequest {
    /// Extracts `host=<service hostname>` from a `forwarded` header value: the Service the caller addressed,
    /// used only for metrics (never for routing). A value that is not a DNS name is ignored.
    static func parseForwardedHost(_ value: String) -> String? {
        for element in value.split(separator: ";") {
            let pair = element.trimmingCharacters(in: " ")
            guard pair.lowercased().hasPrefix("host=") else { continue }
            var v = pair.dropFirst(5)
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = v.dropFirst().dropLast() }
            let allowed = v.utf8.allSatisfy { c in
                (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E || (c >= 0x41 && c <= 0x5A)
            }
            return allowed && !v.isEmpty && v.count <= 253 ? String(v) : nil
        }
        return nil
    }
}

/// Helpers to build ztunnel-style telemetry headers.
public enum HBONEHeaders {
    /// `baggage` with the source workload's metadata, as ztunnel sends it.
    public static func baggage(cluster: String = "Kubernetes", namespace: String, workloadKind: String, workload: String,
                               service: String? = nil, version: String? = nil) -> String {
        var items = [
            "k8s.cluster.name=\(cluster)", "k8s.namespace.name=\(namespace)",
            "k8s.\(workloadKind.lowercased()).name=\(workload)",
        ]
        if let service { items.append("service.name=\(service)") }
        if let version { items.append("service.version=\(version)") }
        return items.joined(separator: ",")
    }

    /// A fresh W3C `traceparent` (version 00, sampled flag off).
    public static func traceparent() -> String {
        var rng = BufferedRandom()
        let words = (rng.next(), rng.next(), rng.next())
        let digits: StaticString = "0123456789abcdef"
        // 00-<32 hex trace id>-<16 hex span id>-00
        return String(unsafeUninitializedCapacity: 55) { out in
            var index = 0
            func put(_ byte: UInt8) {
                out[index] = byte
                index += 1
            }
            func hex(_ word: UInt64) {
                for shift in stride(from: 60, through: 0, by: -4) { put(digits.utf8Start[Int((word >> UInt64(shift)) & 0xF)]) }
            }
            put(UInt8(ascii: "0")); put(UInt8(ascii: "0")); put(UInt8(ascii: "-"))
            hex(words.0); hex(words.1)
            put(UInt8(ascii: "-"))
            hex(words.2)
            put(UInt8(ascii: "-")); put(UInt8(ascii: "0")); put(UInt8(ascii: "0"))
            return index
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> Substring {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
