// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// Extracts a request's consistent-hash key, as a DestinationRule `consistentHash` names it, and hashes
/// it for ``LoadBalancer/choose(hash:isAvailable:using:)``.
///
/// Every key hashes with xxHash64 (seed 0), as Envoy does:
/// - `httpHeaderName`: the header's values, names compared ignoring ASCII case. One value hashes as
///   itself; repeated headers hash their values sorted and concatenated, so the order they arrive in
///   does not matter (Envoy's rule). An empty value is still a key.
/// - `httpCookie`: the first cookie of that name (exact, case-sensitive) across the `cookie` headers,
///   with surrounding double quotes removed. An empty cookie counts as absent. When it is absent and
///   the key has a TTL, a cookie is generated (see ``GeneratedCookie``); without a TTL there is no key.
/// - `httpQueryParameterName`: the first parameter of that name (exact), value as sent — not
///   percent-decoded, like Envoy; `?user` without `=` has the empty value.
/// - `useSourceIp`: the source IP as text (`10.0.0.7`, `fd00::7`), without a port.
///
/// An absent key gives ``Outcome/absent``, for which the balancer picks at random.
public struct ConsistentHashKey: Hashable, Sendable {
    /// A cookie the waypoint generated because the hash cookie was absent and the key has a TTL.
    /// The waypoint adds ``setCookie`` to the response as a `Set-Cookie` header, so later requests of
    /// the same client carry it and keep reaching the same endpoint.
    public struct GeneratedCookie: Hashable, Sendable {
        /// The cookie name.
        public var name: String
        /// The random value: 16 lower-case hex digits.
        public var value: String
        /// The `Set-Cookie` header value: `name=value; Path=path; Max-Age=seconds; HttpOnly`, without
        /// `Path` when none is configured and without `Max-Age` for a TTL of 0 (a session cookie).
        public var setCookie: String
    }

    /// What evaluating the key against a request gave.
    public enum Outcome: Hashable, Sendable {
        /// The key was in the request; its hash.
        case hash(UInt64)
        /// The cookie was absent and one was generated; the hash of its value.
        case generated(hash: UInt64, cookie: GeneratedCookie)
        /// The key is absent and nothing was generated.
        case absent

        /// The hash to balance with, `nil` when absent.
        public var hash: UInt64? {
            switch self {
            case .hash(let hash), .generated(let hash, _): hash
            case .absent: nil
            }
        }

        /// The generated cookie, if any.
        public var generatedCookie: GeneratedCookie? {
            if case .generated(_, let cookie) = self { cookie } else { nil }
        }
    }

    /// The configured key.
    public var key: LoadBalancerSettings.ConsistentHash.Key

    /// Creates an extractor for `key`.
    public init(_ key: LoadBalancerSettings.ConsistentHash.Key) {
        self.key = key
    }

    /// Evaluates the key against a request.
    ///
    /// - Parameters:
    ///   - headers: The request headers in order; names compare ignoring ASCII case.
    ///   - query: The query string, with or without one leading `?` (`?a=1&user=bob` or `a=1&user=bob`);
    ///     `nil` when the request has none.
    ///   - sourceIP: The client's IP address as text; `nil` or empty when unknown.
    ///   - generator: Randomness for a generated cookie value.
    public func evaluate(
        headers: [(name: String, value: String)],
        query: String?,
        sourceIP: String?,
        using generator: inout some RandomNumberGenerator
    ) -> Outcome {
        evaluate(
            values: { name in headers.compactMap { Self.equalsIgnoringCase($0.name, name) ? $0.value : nil } },
            query: query.map { $0.hasPrefix("?") ? $0.dropFirst() : $0[...] },
            sourceIP: sourceIP,
            using: &generator)
    }

    /// Evaluates the key against a routed request (its headers and the query of its `path`).
    public func evaluate(
        _ request: RouteRequest,
        sourceIP: String?,
        using generator: inout some RandomNumberGenerator
    ) -> Outcome {
        evaluate(values: { request.headers.values(named: $0) }, query: request.query, sourceIP: sourceIP, using: &generator)
    }

    private func evaluate(
        values: (String) -> [String],
        query: Substring?,
        sourceIP: String?,
        using generator: inout some RandomNumberGenerator
    ) -> Outcome {
        switch key {
        case .httpHeaderName(let name):
            let found = values(name)
            guard !found.isEmpty else { return .absent }
            return .hash(found.count == 1 ? XXHash64.hash(found[0]) : XXHash64.hash(found.sorted().joined()))
        case .httpCookie(let name, let path, let ttl):
            if let value = Self.cookieValue(named: name, inCookieHeaders: values("cookie")) {
                return .hash(XXHash64.hash(value))
            }
            guard let ttl else { return .absent }
            let cookie = Self.generateCookie(name: name, path: path, ttl: ttl, using: &generator)
            return .generated(hash: XXHash64.hash(cookie.value), cookie: cookie)
        case .httpQueryParameterName(let name):
            guard let query, let value = Self.queryValue(named: name, inQuery: query) else { return .absent }
            return .hash(XXHash64.hash(value))
        case .useSourceIp:
            guard let sourceIP, !sourceIP.isEmpty else { return .absent }
            return .hash(XXHash64.hash(sourceIP))
        }
    }

    /// The value of the first parameter `name` in a query string (no leading `?`), not decoded;
    /// empty for a parameter without `=`.
    public static func queryValue(named name: String, inQuery query: Substring) -> Substring? {
        for parameter in query.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = parameter.firstIndex(of: "=") else {
                if parameter == name { return parameter[parameter.endIndex...] }
                continue
            }
            if parameter[..<equals] == name { return parameter[parameter.index(after: equals)...] }
        }
        return nil
    }

    /// Whether two header names are equal ignoring ASCII case.
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        return x.elementsEqual(y) { ($0 &- 0x41 < 26 ? $0 | 0x20 : $0) == ($1 &- 0x41 < 26 ? $1 | 0x20 : $1) }
    }
}
