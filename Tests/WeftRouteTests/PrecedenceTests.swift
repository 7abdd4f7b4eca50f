// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// Gateway API precedence across every rule of every attached route, one step at a time.
private func m(
    _ path: HTTPRouteMatch.PathMatch = .pathPrefix("/"),
    headers: [(String, String)] = [],
    query: [(String, String)] = [],
    method: HTTPRouteMatch.Method? = nil
) -> HTTPRouteMatch {
    HTTPRouteMatch(
        path: path,
        headers: headers.map { .init(name: $0.0, value: $0.1) },
        queryParams: query.map { .init(name: $0.0, value: $0.1) },
        method: method
    )
}

@Suite("Precedence")
struct PrecedenceTests {
    /// Two routes, `a` (first argument) and `b`, identical in age and both in `shop`; the winner
    /// must not depend on the order the routes are given in.
    static func winner(_ first: HTTPRouteMatch, _ second: HTTPRouteMatch, _ request: RouteRequest) -> String {
        let a = route("a", [rule([first], to: "a")])
        let b = route("b", [rule([second], to: "b")])
        let forward = backendName(RouteTable(parent: reviews, routes: [a, b]), request)
        let backward = backendName(RouteTable(parent: reviews, routes: [b, a]), request)
        return forward == backward ? forward : "order-dependent: \(forward) vs \(backward)"
    }

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let first: HTTPRouteMatch
        let second: HTTPRouteMatch
        let request: RouteRequest
        let expected: String
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "Exact beats a longer PathPrefix",
            first: m(.pathPrefix("/foo/bar")),
            second: m(.exact("/foo/bar")),
            request: request("/foo/bar"),
            expected: "b"
        ),
        Row(
            name: "Exact beats a prefix with more headers",
            first: m(.pathPrefix("/foo"), headers: [("a", "1")]),
            second: m(.exact("/foo")),
            request: request("/foo", headers: [("a", "1")]),
            expected: "b"
        ),
        Row(
            name: "Longest PathPrefix wins",
            first: m(.pathPrefix("/foo")),
            second: m(.pathPrefix("/foo/bar")),
            request: request("/foo/bar/baz"),
            expected: "b"
        ),
        Row(
            name: "Prefix length beats method",
            first: m(.pathPrefix("/foo"), method: .get),
            second: m(.pathPrefix("/foo/bar")),
            request: request("/foo/bar"),
            expected: "b"
        ),
        Row(
            name: "Method beats headers",
            first: m(.pathPrefix("/foo"), headers: [("a", "1"), ("b", "2")]),
            second: m(.pathPrefix("/foo"), method: .get),
            request: request("/foo", headers: [("a", "1"), ("b", "2")]),
            expected: "b"
        ),
        Row(
            name: "More headers win",
            first: m(headers: [("a", "1")]),
            second: m(headers: [("a", "1"), ("b", "2")]),
            request: request("/", headers: [("a", "1"), ("b", "2")]),
            expected: "b"
        ),
        Row(
            name: "Headers beat query params",
            first: m(query: [("q", "1"), ("r", "2")]),
            second: m(headers: [("a", "1")]),
            request: request("/?q=1&r=2", headers: [("a", "1")]),
            expected: "b"
        ),
        Row(
            name: "More query params win",
            first: m(query: [("q", "1")]),
            second: m(query: [("q", "1"), ("r", "2")]),
            request: request("/?q=1&r=2"),
            expected: "b"
        ),
        Row(
            name: "A bare header match beats a bare PathPrefix /",
            first: m(.pathPrefix("/")),
            second: m(headers: [("a", "1")]),
            request: request("/x", headers: [("a", "1")]),
            expected: "b"
        ),
        Row(
            name: "PathPrefix beats RegularExpression",
            first: m(.regularExpression("/foo/.*")),
            second: m(.pathPrefix("/foo")),
            request: request("/foo/x"),
            expected: "b"
        ),
        Row(
            name: "Exact beats RegularExpression",
            first: m(.regularExpression("/foo")),
            second: m(.exact("/foo")),
            request: request("/foo"),
            expected: "b"
        ),
        Row(
            name: "Longer RegularExpression first",
            first: m(.regularExpression("/.*")),
            second: m(.regularExpression("/fo+/.*")),
            request: request("/foo/x"),
            expected: "b"
        ),
        Row(
            name: "A more specific route that does not match falls through",
            first: m(.pathPrefix("/")),
            second: m(.pathPrefix("/foo"), headers: [("a", "1")]),
            request: request("/foo"),
            expected: "a"
        ),
        Row(
            name: "Equal specificity: alphabetical namespace/name",
            first: m(.pathPrefix("/foo")),
            second: m(.pathPrefix("/foo")),
            request: request("/foo"),
            expected: "a"
        ),
    ]

    @Test("Each precedence step, in both route orders", arguments: rows)
    func steps(_ row: Row) {
        #expect(Self.winner(row.first, row.second, row.request) == row.expected)
    }

    @Test("The oldest route wins a tie, whatever its name")
    func oldestRoute() {
        let young = route("aaa", order: 200, [rule(to: "young")])
        let old = route("zzz", order: 100, [rule(to: "old")])
        #expect(backendName(RouteTable(parent: reviews, routes: [young, old]), request("/")) == "old")
    }

    @Test("Alphabetical order compares the whole namespace/name string")
    func alphabeticalKey() {
        // "a-b/x" sorts before "a/y" because '-' (0x2D) precedes '/' (0x2F), although namespace
        // "a" sorts before "a-b".
        let first = route("x", namespace: "a-b", parent: .init(namespace: "shop", name: "reviews"), [rule(to: "a-b")])
        let second = route("y", namespace: "a", parent: .init(namespace: "shop", name: "reviews"), [rule(to: "a")])
        #expect(backendName(RouteTable(parent: reviews, routes: [second, first]), request("/")) == "a-b")
    }

    @Test("Within a route the first matching rule wins; a more specific later rule still wins")
    func ruleOrder() {
        let table = RouteTable(
            parent: reviews,
            routes: [
                route(
                    "r",
                    [
                        rule([m(.pathPrefix("/a"))], to: "first"), rule([m(.pathPrefix("/a"))], to: "second"),
                        rule([m(.pathPrefix("/a/b"))], to: "specific"),
                    ]
                )
            ]
        )
        #expect(backendName(table, request("/a/x")) == "first")
        #expect(backendName(table, request("/a/b")) == "specific")
        #expect(selected(table, request("/a/x")) == "shop/r rules[0]")
    }

    @Test("Precedence is per match, not per rule")
    func perMatch() {
        let table = RouteTable(
            parent: reviews,
            routes: [
                route("a", [rule([m(.pathPrefix("/")), m(.exact("/x"))], to: "a")]),
                route("b", [rule([m(.pathPrefix("/x"))], to: "b")]),
            ]
        )
        #expect(backendName(table, request("/x")) == "a")
        #expect(table.firstMatch(request("/x"))?.matchIndex == 1)
        #expect(backendName(table, request("/x/y")) == "b")
    }

    @Test("No rule matches: no selection, the caller answers 404")
    func noMatch() {
        let table = RouteTable(parent: reviews, routes: [route("r", [rule([m(.exact("/only"))])])])
        #expect(table.match(request("/other")) == nil)
        #expect(RouteTable(parent: reviews, routes: []).isEmpty)
    }

    // MARK: - Hostnames

    @Test(
        "Hostnames: precise beats wildcard, longer wildcard beats shorter, any host comes last",
        arguments: [
            ("reviews.shop.svc.cluster.local", "precise"),
            ("REVIEWS.shop.svc.cluster.local:9080", "precise"),
            ("ratings.shop.svc.cluster.local", "long-wildcard"),
            ("a.cluster.local", "short-wildcard"),
            ("cluster.local", "any"),
            ("reviews", "any"),
        ]
    )
    func hostnames(authority: String, expected: String) {
        let routes = [
            route("any", [rule([m(.pathPrefix("/x"))], to: "any")]),
            route("short-wildcard", hostnames: ["*.cluster.local"], [rule(to: "short-wildcard")]),
            route("long-wildcard", hostnames: ["*.shop.svc.cluster.local"], [rule(to: "long-wildcard")]),
            route("precise", hostnames: ["reviews.shop.svc.cluster.local"], [rule(to: "precise")]),
        ]
        let table = RouteTable(parent: reviews, routes: routes)
        #expect(table.errors.isEmpty)
        #expect(backendName(table, request("/x", authority: authority)) == expected)
    }

    @Test("A route whose hostnames do not match is skipped even with a better path")
    func hostnameFilters() {
        let table = RouteTable(
            parent: reviews,
            routes: [
                route("other-host", hostnames: ["other.example.com"], [rule([m(.exact("/x"))], to: "other")]),
                route("any", [rule(to: "any")]),
            ]
        )
        #expect(backendName(table, request("/x", authority: "reviews:9080")) == "any")
        #expect(backendName(table, request("/x", authority: "other.example.com:9080")) == "other")
    }

    // MARK: - Attachment

    @Test("parentRefs: service name, namespace (defaulting to the route's) and optional port")
    func attachment() {
        let routes = [
            route("any-port", [rule(to: "any-port")]),
            route(
                "this-port",
                parent: .init(name: "reviews", port: 9080),
                [rule([m(.pathPrefix("/p"))], to: "this-port")]
            ),
            route(
                "other-port",
                parent: .init(name: "reviews", port: 8080),
                [rule([m(.exact("/p"))], to: "other-port")]
            ),
            route("other-service", parent: .init(name: "ratings"), [rule([m(.exact("/p"))], to: "ratings")]),
            route(
                "other-namespace",
                namespace: "web",
                parent: .init(name: "reviews"),
                [rule([m(.exact("/p"))], to: "web")]
            ),
            route(
                "gateway",
                parent: .init(group: "gateway.networking.k8s.io", kind: "Gateway", name: "reviews"),
                [rule([m(.exact("/p"))], to: "gateway")]
            ),
        ]
        let table = RouteTable(parent: reviews, routes: routes)
        #expect(table.routes.map(\.name) == ["any-port", "this-port"])
        #expect(backendName(table, request("/p")) == "this-port")
        let other = RouteTable(parent: RouteParent(namespace: "shop", name: "reviews", port: 8080), routes: routes)
        #expect(backendName(other, request("/p")) == "other-port")
    }
}
