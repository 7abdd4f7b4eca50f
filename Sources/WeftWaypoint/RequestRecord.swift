// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import WeftModel

/// One request through the waypoint, for the access log and request metrics.
public struct RequestRecord: Sendable {
    /// The caller: the mTLS identity and address of the HBONE stream's peer.
    public internal(set) var peerIdentity: SPIFFEID?
    public internal(set) var peerIP: IPAddress?
    /// The Service the request was sent to (after routing) and the endpoint that answered.
    public internal(set) var backendService: MeshService?
    public internal(set) var upstreamIP: IPAddress?
    public internal(set) var method = ""
    public internal(set) var path = ""
    public internal(set) var authority = ""
    public internal(set) var requestID = ""
    public internal(set) var route: String?
    public internal(set) var upstreamCluster: String?
    public internal(set) var upstreamHost: String?
    public internal(set) var status = 0
    /// Envoy response flags, comma-separated in the order they arose (`DI,FI`); `-` for none. `NR`, `UH`, `UF`,
    /// `UC`, `UT`, `URX`, `UO`, `DI`, `FI`, `RL`.
    public internal(set) var flags = "-"
    public internal(set) var requestBytes = 0
    public internal(set) var responseBytes = 0
    /// Why AuthorizationPolicy denied the request (the deciding policy and rule), when it did.
    public internal(set) var denial: String?
    /// `HTTP/1.1` or `HTTP/2`.
    public internal(set) var protocolName = "HTTP/1.1"
    public internal(set) var userAgent: String?
    public internal(set) var forwardedFor: String?
    /// The path before a URLRewrite changed it (Envoy's `X-ENVOY-ORIGINAL-PATH`).
    public internal(set) var originalPath: String?
    /// Envoy's `%RESPONSE_CODE_DETAILS%`: `via_upstream`, `route_not_found`, `rbac_access_denied_matched_policy[…]`…
    public internal(set) var responseCodeDetails = "-"
    /// Milliseconds from sending the request upstream to its response head (`x-envoy-upstream-service-time`).
    public internal(set) var upstreamServiceTime: Int?
    /// How many times the request was tried again.
    public internal(set) var retries = 0
    public let started = ContinuousClock.now

    /// Adds an Envoy response flag (`-` adds nothing; a flag already present is not repeated).
    mutating func addFlag(_ flag: String) {
        guard flag != "-", !flags.split(separator: ",").contains(Substring(flag)) else { return }
        flags = flags == "-" ? flag : flags + "," + flag
    }

    /// A random UUID (version 4), as Envoy generates for `x-request-id`.
    static func newRequestID() -> String {
        var generator = BufferedRandom()
        let high = generator.next() & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = generator.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for (word, shifts) in [(high, 0..<16), (low, 0..<16)] {
                for nibble in shifts {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        buffer[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    buffer[index] = digits.utf8Start[Int((word >> UInt64(60 - 4 * nibble)) & 0xF)]
                    index += 1
                }
            }
            return index
        }
    }

    /// The access-log fields (Envoy's default set, `-` for what is unknown); `milliseconds` is the request's
    /// duration.
    public func accessLogMetadata(milliseconds: Double) -> Logger.Metadata {
        func v(_ value: (some CustomStringConvertible)?) -> Logger.MetadataValue { .string(value.map { "\($0)" } ?? "-") }
        return [
            "method": v(method), "path": v(path), "authority": v(authority), "protocol": v(protocolName),
            "status": v(status), "response_flags": v(flags), "response_code_details": v(responseCodeDetails),
            "request_id": v(requestID), "route": v(route), "upstream_cluster": v(upstreamCluster),
            "upstream_host": v(upstreamHost), "upstream_service_time": v(upstreamServiceTime),
            "bytes_received": v(requestBytes), "bytes_sent": v(responseBytes), "retries": v(retries),
            "src.identity": v(peerIdentity), "downstream_remote_address": v(peerIP), "rbac": v(denial),
            "user_agent": v(userAgent), "x_forwarded_for": v(forwardedFor), "original_path": v(originalPath),
            "duration": .string("\(Int(milliseconds))ms"),
        ]
    }
}
