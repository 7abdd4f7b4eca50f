// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The parts of an HTTP request that routing reads, and that request filters rewrite.
///
/// The waypoint builds one per request from the HTTP/1 request line and `Host` header, or from the
/// HTTP/2 pseudo-headers. Paths are matched as given: normalise them (dot segments, `%2E`, …) before
/// building the request if policy says so, exactly as the authorization engine sees them.
///
/// The derived views (``pathWithoutQuery``, ``query``, ``host``) are slices of the stored strings, so
/// reading them does not allocate.
public struct RouteRequest: Hashable, Sendable {
    /// The method, upper case as sent (`GET`, `POST`, …). gRPC requests are always `POST`.
    public var method: String
    /// `http` or `https`, used as the default scheme of a redirect.
    public var scheme: String
    /// `:authority`, or the `Host` header of an HTTP/1 request, with its port if one was sent.
    public var authority: String
    /// The request target in origin form: the path, then `?` and the query string if any.
    public var path: String
    /// Every header except HTTP/2 pseudo-headers, in order, with repeated names kept apart.
    public var headers: [HTTPHeaderField]

    /// Creates a request view.
    ///
    /// - Parameters:
    ///   - method: The method, such as `GET`.
    ///   - path: The path with its query string, such as `/search?q=a`.
    ///   - authority: The authority or `Host` header (`reviews.shop:9080`); empty when absent.
    ///   - scheme: `http` (default) or `https`.
    ///   - headers: The headers in order.
    public init(
        method: String = "GET",
        path: String,
        authority: String = "",
        scheme: String = "http",
        headers: [HTTPHeaderField] = []
    ) {
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.headers = headers
    }

    /// The path without the query string (what path matches and rewrites see).
    public var pathWithoutQuery: Substring {
        guard let mark = path.utf8.firstIndex(of: ASCII.question) else { return path[...] }
        return path[..<mark]
    }

    /// The query string after `?` (without it), or `nil` when the target has no `?`.
    public var query: Substring? {
        guard let mark = path.utf8.firstIndex(of: ASCII.question) else { return nil }
        return path[path.utf8.index(after: mark)...]
    }

    /// The authority without its port: `reviews.shop` for `reviews.shop:9080`, `[fd00::1]` for
    /// `[fd00::1]:80`. Hostname matching ignores the port, as Gateway API requires.
    public var host: Substring {
        Self.host(ofAuthority: authority[...])
    }

    /// The first value of the query parameter `name` (compared exactly, case-sensitive), or `nil`.
    ///
    /// Gateway API leaves repeated parameters undefined and recommends the first value, which is what
    /// this returns. Names and values are compared as sent, without percent-decoding (as Envoy's query
    /// parameter matcher does). A parameter without `=` has the empty value.
    public func queryValue(named name: String) -> Substring? {
        guard let query else { return nil }
        return Self.firstValue(named: name, in: query)
    }

    /// Every query parameter in order, split on `&` and the first `=`, not decoded.
    public var queryParameters: [(name: Substring, value: Substring)] {
        guard let query else { return [] }
        var result: [(name: Substring, value: Substring)] = []
        Self.forEachParameter(in: query) { name, value in
            result.append((name, value))
            return false
        }
        return result
    }

    // MARK: - Parsing helpers

    static func host(ofAuthority authority: Substring) -> Substring {
        let bytes = authority.utf8
        if bytes.first == ASCII.openBracket {
            guard let close = bytes.firstIndex(of: ASCII.closeBracket) else { return authority }
            return authority[...close]
        }
        guard let colon = bytes.lastIndex(of: ASCII.colon) else { return authority }
        return authority[..<colon]
    }

    static func firstValue(named name: String, in query: Substring) -> Substring? {
        var found: Substring?
        forEachParameter(in: query) { parameter, value in
            guard ASCII.same(parameter, name) else { return false }
            found = value
            return true
        }
        return found
    }

    /// Calls `body` with each `name=value` pair until it returns `true`. Empty pairs (`a&&b`) are skipped.
    @inline(__always)
    static func forEachParameter(in query: Substring, _ body: (Substring, Substring) -> Bool) {
        let bytes = query.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: ASCII.ampersand) ?? bytes.endIndex
            if start < end {
                let pair = query[start..<end]
                if let equals = pair.utf8.firstIndex(of: ASCII.equals) {
                    if body(pair[..<equals], pair[pair.utf8.index(after: equals)...]) { return }
                } else if body(pair, pair[pair.endIndex...]) {
                    return
                }
            }
            start = end == bytes.endIndex ? end : bytes.index(after: end)
        }
    }
}
