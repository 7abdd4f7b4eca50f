// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// `URLRewrite` and the `HTTPPathModifier` semantics shared with redirects.
@Suite("Rewrites")
struct RewriteTests {
    /// Gateway API's ReplacePrefixMatch table, plus segment-boundary and root-prefix cases.
    @Test(
        "ReplacePrefixMatch",
        arguments: [
            ("/foo", "/xyz", "/foo/bar", "/xyz/bar"),
            ("/foo", "/xyz/", "/foo/bar", "/xyz/bar"),
            ("/foo/", "/xyz", "/foo/bar", "/xyz/bar"),
            ("/foo/", "/xyz/", "/foo/bar", "/xyz/bar"),
            ("/foo", "/xyz", "/foo", "/xyz"),
            ("/foo", "/xyz", "/foo/", "/xyz/"),
            ("/foo", "", "/foo/bar", "/bar"),
            ("/foo", "", "/foo/", "/"),
            ("/foo", "", "/foo", "/"),
            ("/foo", "/", "/foo/", "/"),
            ("/foo", "/", "/foo", "/"),
            ("/foo", "/", "/foo/baz", "/baz"),
            ("/foo", "/bar", "/foo/baz", "/bar/baz"),
            ("/foo", "/bar", "/foo", "/bar"),
            ("/", "/api", "/users/1", "/api/users/1"),
            ("/", "/", "/users", "/users"),
            ("/foo/bar", "/x", "/foo/bar/baz/", "/x/baz/"),
        ]
    )
    func replacePrefix(prefix: String, replacement: String, path: String, expected: String) {
        let modifier = HTTPRouteFilter.PathModifier.replacePrefixMatch(replacement)
        #expect(modifier.apply(to: path[...], matchedPrefix: prefix) == expected)
    }

    @Test("ReplaceFullPath replaces the whole path")
    func replaceFull() {
        #expect(HTTPRouteFilter.PathModifier.replaceFullPath("/one").apply(to: "/a/b/c", matchedPrefix: "/a") == "/one")
    }

    @Test("URLRewrite rewrites authority, Host header and path, keeping the query")
    func rewrite() {
        let rewrite = HTTPRouteFilter.URLRewrite(hostname: "backend.internal", path: .replacePrefixMatch("/v2"))
        var request = request("/v1/items?page=2", headers: [("Host", "reviews.shop:9080"), ("x", "y")])
        rewrite.apply(to: &request, matchedPrefix: "/v1")
        #expect(request.path == "/v2/items?page=2")
        #expect(request.authority == "backend.internal")
        #expect(request.headers == [HTTPHeaderField("Host", "backend.internal"), HTTPHeaderField("x", "y")])
    }

    @Test("A rewrite rule forwards with the matched prefix replaced")
    func throughTable() {
        let rule = HTTPRouteRule(
            matches: [HTTPRouteMatch(path: .pathPrefix("/shop/"))],
            filters: [.urlRewrite(.init(path: .replacePrefixMatch("/")))],
            backendRefs: [HTTPBackendRef(service: "v1", port: 9080)]
        )
        let table = RouteTable(parent: reviews, routes: [route("r", [rule])])
        var forwarded = request("/shop/cart?id=3")
        guard let selection = table.match(forwarded) else {
            Issue.record("no selection")
            return
        }
        #expect(selection.match.matchedPathPrefix == "/shop/")
        selection.applyRequestFilters(to: &forwarded)
        #expect(forwarded.path == "/cart?id=3")
        #expect(forwarded.authority == "reviews.shop:9080")
    }
}
