// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// What a waypoint knows about one HTTP request when it authorizes it: the connection's L4 attributes (the
/// client's address and mTLS identity as seen over HBONE, and the destination) plus the request's method,
/// authority, path and headers.
///
/// Built once per request. Every string the matchers compare is derived here (lowercased authority and
/// host, lowercased header names, joined header values), so ``WaypointPolicySet/evaluate(_:)`` itself does
/// not allocate.
///
/// ## JWT
/// Weft validates no JWT (there is no `RequestAuthentication` support), so a request never has a request
/// principal or `request.auth.*` claims. This is exactly Istio's behaviour for a request that presented no
/// JWT: `requestPrincipals` and `when` `values` on `request.auth.*` never match, while their negations
/// (`notRequestPrincipals`, `notValues`) always do — so Istio's "deny requests without a JWT" policy
/// (`DENY` with `notRequestPrincipals: ["*"]`) denies every request, as it would in Istio with no
/// RequestAuthentication.
public struct RequestFacts: Hashable, Sendable, CustomStringConvertible {
    /// The Service or ServiceEntry a request is addressed to, which decides the `targetRefs` policies bound
    /// to it (`kind: Service`, `group: ""`; or `kind: ServiceEntry`, `group: networking.istio.io`).
    public struct ServiceName: Hashable, Sendable, CustomStringConvertible {
        /// Service or ServiceEntry.
        public var kind: MeshService.Kind
        /// The service's namespace.
        public var namespace: String
        /// The service's name.
        public var name: String

        /// Creates a service name.
        public init(kind: MeshService.Kind = .service, namespace: String, name: String) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
        }

        /// The name of `service`.
        public init(_ service: MeshService) {
            self.init(kind: service.kind, namespace: service.namespace, name: service.name)
        }

        /// `Service/namespace/name`, the form of ``MeshService/uid``.
        public var description: String { "\(kind.rawValue)/\(namespace)/\(name)" }
    }

    /// The connection the request arrived on: peer address and identity, destination address and port.
    public let connection: ConnectionFacts
    /// The Service the request is for; `nil` for a request addressed to a workload's own IP.
    public let service: ServiceName?
    /// The method as sent (`GET`, `POST`, …); compared case-sensitively, as Envoy compares `:method`.
    public let method: String
    /// `:authority` (or `Host`), ASCII-lowercased.
    public let authority: String
    /// ``authority`` without its port: `example.com:8080` → `example.com`, `[fd00::1]:80` → `[fd00::1]`.
    public let host: String
    /// The normalised path without query string (see ``PathNormalizer``).
    public let path: String
    /// Request headers by ASCII-lowercased name; a header sent several times has its values joined with `,`,
    /// as Envoy's header matcher sees them.
    public let headers: [String: String]

    /// Creates the facts of one request.
    ///
    /// - Parameters:
    ///   - connection: The HBONE connection's facts: the original client's identity and address, and the
    ///     destination address and port that `ports` and `destination.port` match (the workload's target
    ///     port, as Istio documents it, not the Service port).
    ///   - service: The Service the request is addressed to, if any.
    ///   - method: The request method.
    ///   - authority: `:authority` or `Host`, as received; lowercased here.
    ///   - path: The path, already normalised by ``PathNormalizer`` (the caller answers 400 when it cannot
    ///     be). A query string, if still present, is dropped: it is never part of the matched path.
    ///   - headers: The request headers in order, names in any case. Pseudo-headers are not looked up by
    ///     `request.headers[...]`; pass them here if a policy should see them.
    public init(
        connection: ConnectionFacts,
        service: ServiceName?,
        method: String,
        authority: String,
        path: String,
        headers: [(name: String, value: String)] = []
    ) {
        self.connection = connection
        self.service = service
        self.method = method
        let authority = Self.asciiLowercased(authority)
        self.authority = authority
        self.host = Self.stripPort(authority)
        if let query = path.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = String(path[..<query])
        } else {
            self.path = path
        }
        var joined: [String: String] = [:]
        joined.reserveCapacity(headers.count)
        for (name, value) in headers {
            let key = Self.asciiLowercased(name)
            if let existing = joined[key] {
                joined[key] = existing + "," + value
            } else {
                joined[key] = value
            }
        }
        self.headers = joined
    }

    // MARK: - Connection attributes

    /// The peer address (``ConnectionFacts/sourceIP``).
    public var sourceIP: IPAddress { connection.sourceIP }
    /// The peer's identity (``ConnectionFacts/sourceIdentity``).
    public var sourceIdentity: SPIFFEID? { connection.sourceIdentity }
    /// The peer's principal (``ConnectionFacts/sourcePrincipal``).
    public var sourcePrincipal: String? { connection.sourcePrincipal }
    /// The peer identity's namespace (``ConnectionFacts/sourceNamespace``).
    public var sourceNamespace: String? { connection.sourceNamespace }
    /// The destination address (``ConnectionFacts/destinationIP``).
    public var destinationIP: IPAddress { connection.destinationIP }
    /// The destination port (``ConnectionFacts/destinationPort``).
    public var destinationPort: UInt16 { connection.destinationPort }

    /// `GET example.com/path from 10.0.0.5 (spiffe://…) -> 10.1.0.9:8080 Service/shop/web`.
    public var description: String {
        let peer = sourceIdentity.map(\.uri) ?? "plaintext"
        let destination = HostPort(ip: destinationIP, port: destinationPort)
        let target = service.map(\.description) ?? connection.destinationName ?? "in namespace "
            + connection.destinationNamespace
        return "\(method) \(authority)\(path) from \(sourceIP) (\(peer)) -> \(destination) \(target)"
    }

    // MARK: - Derivations

    /// `text` with ASCII `A`–`Z` lowercased (Envoy's case-insensitive matching is ASCII-only); `text` itself
    /// when it has no uppercase letter, which is the common case (HTTP/2 names are lowercase already).
    static func asciiLowercased(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return text }
        return String(
            decoding: text.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 },
            as: UTF8.self)
    }

    /// The authority without a trailing `:digits` port; a bracketed IPv6 literal keeps its brackets.
    static func stripPort(_ authority: String) -> String {
        let bytes = authority.utf8
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.lastIndex(of: UInt8(ascii: "]")) else { return authority }
            return String(authority[...close])
        }
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")), bytes.firstIndex(of: UInt8(ascii: ":")) == colon,
            bytes[bytes.index(after: colon)...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return authority }
        return String(authority[..<colon])
    }
}
