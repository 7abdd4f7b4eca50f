// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// One entry of `rules[].matches[]`: every field present must match (AND). A rule matches when any of
/// its entries does (OR); a rule without entries behaves as one entry `PathPrefix /`.
public struct HTTPRouteMatch: Hashable, Sendable {
    /// `path`: how the request path (without its query string) is compared.
    public enum PathMatch: Hashable, Sendable, CustomStringConvertible {
        /// `Exact`: the whole path, case-sensitive. `/abc` matches only `/abc`.
        case exact(String)
        /// `PathPrefix`: a prefix made of whole `/`-separated segments; a trailing `/` in the value is
        /// ignored. `/abc` matches `/abc`, `/abc/` and `/abc/def`, but not `/abcd`.
        case pathPrefix(String)
        /// `RegularExpression`: the regular expression must match the **whole** path (see
        /// ``RouteTable`` for the dialect).
        case regularExpression(String)

        /// The configured value.
        public var value: String {
            switch self {
            case .exact(let value), .pathPrefix(let value), .regularExpression(let value): return value
            }
        }

        /// The Gateway API type name: `Exact`, `PathPrefix` or `RegularExpression`.
        public var typeName: String {
            switch self {
            case .exact: return "Exact"
            case .pathPrefix: return "PathPrefix"
            case .regularExpression: return "RegularExpression"
            }
        }

        /// `Type value`.
        public var description: String { "\(typeName) \(value)" }
    }

    /// `type` of a header or query parameter match.
    public enum ValueMatchType: String, Hashable, Sendable {
        /// The value equals the configured one, case-sensitive.
        case exact = "Exact"
        /// The configured regular expression matches the whole value.
        case regularExpression = "RegularExpression"
    }

    /// An entry of `headers[]`. The name is compared case-insensitively; if the request repeats the
    /// header, its values are joined with `,` before comparing (RFC 9110 folding, as Envoy does).
    public struct HeaderMatch: Hashable, Sendable {
        /// `Exact` (default) or `RegularExpression`.
        public var type: ValueMatchType
        /// The header name; pseudo-headers such as `:method` are not allowed.
        public var name: String
        /// The expected value or the regular expression.
        public var value: String

        /// Creates a header match, `Exact` by default.
        public init(_ type: ValueMatchType = .exact, name: String, value: String) {
            self.type = type
            self.name = name
            self.value = value
        }
    }

    /// An entry of `queryParams[]`. The name is compared exactly (case-sensitive); the first value of a
    /// repeated parameter is the one compared.
    public struct QueryParamMatch: Hashable, Sendable {
        /// `Exact` (default) or `RegularExpression`.
        public var type: ValueMatchType
        /// The parameter name.
        public var name: String
        /// The expected value or the regular expression.
        public var value: String

        /// Creates a query parameter match, `Exact` by default.
        public init(_ type: ValueMatchType = .exact, name: String, value: String) {
            self.type = type
            self.name = name
            self.value = value
        }
    }

    /// `method`: the HTTP methods Gateway API accepts, upper case.
    public enum Method: String, Hashable, Sendable, CaseIterable {
        case get = "GET"
        case head = "HEAD"
        case post = "POST"
        case put = "PUT"
        case delete = "DELETE"
        case connect = "CONNECT"
        case options = "OPTIONS"
        case trace = "TRACE"
        case patch = "PATCH"
    }

    /// `path`; `PathPrefix /` when omitted, as the API defaults it.
    public var path: PathMatch
    /// `headers[]`, ANDed. When two entries name the same header only the first counts.
    public var headers: [HeaderMatch]
    /// `queryParams[]`, ANDed. When two entries name the same parameter only the first counts.
    public var queryParams: [QueryParamMatch]
    /// `method`, if set.
    public var method: Method?

    /// Creates a match; with no arguments it matches every request (`PathPrefix /`).
    public init(
        path: PathMatch = .pathPrefix("/"),
        headers: [HeaderMatch] = [],
        queryParams: [QueryParamMatch] = [],
        method: Method? = nil
    ) {
        self.path = path
        self.headers = headers
        self.queryParams = queryParams
        self.method = method
    }
}
