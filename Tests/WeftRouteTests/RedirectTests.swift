// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// `RequestRedirect`: scheme, hostname, port defaults, path modifiers and status codes.
@Suite("Redirects")
struct RedirectTests {
    typealias Redirect = HTTPRouteFilter.RequestRedirect

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let redirect: Redirect
        let path: String
        let scheme: String
        let listenerPort: UInt16
        let expected: String
        var testDescription: String { name }

        init(
            _ name: String,
            _ redirect: Redirect,
            path: String = "/a/b?q=1",
            scheme: String = "http",
            listenerPort: UInt16 = 80,
            _ expected: String
        ) {
            self.name = name
            self.redirect = redirect
            self.path = path
            self.scheme = scheme
            self.listenerPort = listenerPort
            self.expected = expected
        }
    }

    static let rows: [Row] = [
        Row("defaults: 302, same URL, port 80 omitted", Redirect(), "302 -> http://reviews.shop/a/b?q=1"),
        Row("hostname only", Redirect(hostname: "example.org"), "302 -> http://example.org/a/b?q=1"),
        Row("status code", Redirect(hostname: "example.org", statusCode: 301), "301 -> http://example.org/a/b?q=1"),
        Row("scheme https implies 443, omitted", Redirect(scheme: .https), "302 -> https://reviews.shop/a/b?q=1"),
        Row(
            "scheme http from https implies 80",
            Redirect(scheme: .http),
            scheme: "https",
            listenerPort: 443,
            "302 -> http://reviews.shop/a/b?q=1"
        ),
        Row(
            "scheme with explicit port",
            Redirect(scheme: .https, port: 8443),
            "302 -> https://reviews.shop:8443/a/b?q=1"
        ),
        Row(
            "explicit default port is omitted",
            Redirect(scheme: .https, port: 443),
            "302 -> https://reviews.shop/a/b?q=1"
        ),
        Row(
            "no scheme: the listener port",
            Redirect(hostname: "example.org"),
            listenerPort: 9080,
            "302 -> http://example.org:9080/a/b?q=1"
        ),
        Row(
            "no scheme, https request on 443",
            Redirect(),
            scheme: "https",
            listenerPort: 443,
            "302 -> https://reviews.shop/a/b?q=1"
        ),
        Row("port only", Redirect(port: 8080), "302 -> http://reviews.shop:8080/a/b?q=1"),
        Row(
            "ReplaceFullPath keeps the query",
            Redirect(path: .replaceFullPath("/new")),
            "302 -> http://reviews.shop/new?q=1"
        ),
        Row("ReplacePrefixMatch", Redirect(path: .replacePrefixMatch("/xyz")), "302 -> http://reviews.shop/xyz/b?q=1"),
        Row(
            "ReplacePrefixMatch to /",
            Redirect(path: .replacePrefixMatch("/")),
            path: "/a?x",
            "302 -> http://reviews.shop/?x"
        ),
        Row(
            "everything",
            Redirect(
                scheme: .https,
                hostname: "www.example.org",
                path: .replaceFullPath("/"),
                port: 8443,
                statusCode: 308
            ),
            path: "/a",
            "308 -> https://www.example.org:8443/"
        ),
    ]

    @Test("Location and status", arguments: rows)
    func location(_ row: Row) {
        let request = RouteRequest(path: row.path, authority: "reviews.shop:9080", scheme: row.scheme)
        let response = row.redirect.response(to: request, matchedPrefix: "/a", listenerPort: row.listenerPort)
        #expect(response.description == row.expected)
        #expect(response.headers == [HTTPHeaderField("location", response.location)])
    }

    @Test("A redirect rule answers without a backend, using the table's port and the matched prefix")
    func throughTable() {
        let redirect = HTTPRouteFilter.requestRedirect(Redirect(path: .replacePrefixMatch("/v2")))
        let rule = HTTPRouteRule(matches: [HTTPRouteMatch(path: .pathPrefix("/v1/"))], filters: [redirect])
        let table = RouteTable(parent: reviews, routes: [route("r", [rule])])
        #expect(table.errors.isEmpty)
        let selection = table.match(request("/v1/items"))
        #expect(selection?.redirect == RedirectResponse(statusCode: 302, location: "http://reviews.shop:9080/v2/items"))
        #expect(selection?.localStatusCode == 302)
        #expect(selection?.backend == nil)
    }

    @Test("IPv6 hosts keep their brackets")
    func ipv6() {
        let request = RouteRequest(path: "/", authority: "[fd00::1]:9080")
        #expect(
            Redirect().response(to: request, matchedPrefix: nil, listenerPort: 9080).location
                == "http://[fd00::1]:9080/"
        )
    }
}
