// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// The kind of the generated rule number `i` (0 ..< 1 000), shared by the HTTPRoute and VirtualService
/// corpora: 5 % regular expressions, the rest split between exact paths, prefixes, and prefixes with a header,
/// query parameter or header regex.
enum RuleKind {
    /// Path regex `…/r<i>/items/[0-9]+` (i multiple of 20): 50 rules.
    case regex
    /// Exact path `…/r<i>/status` and method GET (i % 5 == 1): 200 rules.
    case exact
    /// Path prefix and header `x-tenant: t<i % 7>` (i % 5 == 2): 200 rules.
    case tenantHeader
    /// Path prefix, method GET (HTTPRoute) and query parameter `version=v<i % 3 + 1>` (i % 5 == 3): 200 rules.
    case query
    /// Path prefix and header `x-canary` matching the regex `true|yes|1` (i % 5 == 4): 200 rules.
    case canaryHeader
    /// Path prefix only, two weighted backends (the other multiples of 5): 150 rules.
    case prefix

    init(_ i: Int) {
        if i % 20 == 0 {
            self = .regex
            return
        }
        switch i % 5 {
        case 1: self = .exact
        case 2: self = .tenantHeader
        case 3: self = .query
        case 4: self = .canaryHeader
        default: self = .prefix
        }
    }

    static let ruleCount = 1_000

    /// The headers every generated request carries, as a browser-originated API call through an ingress would.
    static let commonHeaders = [
        HTTPHeaderField("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        HTTPHeaderField("accept", "application/json"),
        HTTPHeaderField("x-request-id", "8f0e4c8e-2b9a-4c55-9a51-6a3d2f1b7c90"),
        HTTPHeaderField("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        HTTPHeaderField("x-forwarded-proto", "https"),
    ]

    /// A request under `base` (`/api` or `/catalog`) that rule `i`, and no other, selects.
    static func request(for i: Int, base: String, segment: String, authority: String) -> RouteRequest {
        let root = "\(base)/\(segment)\(i)"
        switch RuleKind(i) {
        case .regex:
            let path = base == "/api" ? "/api/v2/\(segment)\(i)/items/17" : "\(root)/items/17"
            return RouteRequest(path: path, authority: authority, headers: commonHeaders)
        case .exact:
            return RouteRequest(path: "\(root)/status", authority: authority, headers: commonHeaders)
        case .tenantHeader:
            return RouteRequest(
                path: "\(root)/reviews?page=2", authority: authority,
                headers: commonHeaders + [HTTPHeaderField("x-tenant", "t\(i % 7)")])
        case .query:
            return RouteRequest(
                path: "\(root)/search?q=shoes&version=v\(i % 3 + 1)", authority: authority, headers: commonHeaders)
        case .canaryHeader:
            return RouteRequest(
                path: "\(root)/items/5", authority: authority,
                headers: commonHeaders + [HTTPHeaderField("x-canary", "yes")])
        case .prefix:
            return RouteRequest(path: "\(root)/v1/things", authority: authority, headers: commonHeaders)
        }
    }
}
