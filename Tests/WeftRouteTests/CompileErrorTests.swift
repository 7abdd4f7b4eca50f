// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// Routes with problems are left out of the table with an operator-facing error naming the field;
/// other routes keep routing.
@Suite("Compile errors")
struct CompileErrorTests {
    /// The errors a single route produces, as printed.
    static func errors(_ rules: [HTTPRouteRule], hostnames: [String] = []) -> [String] {
        RouteTable(parent: reviews, routes: [route("bad", hostnames: hostnames, rules)]).errors.map(\.description)
    }

    static let prefix = "routes.yaml:1: HTTPRoute shop/bad: "

    @Test("A malformed path regex names the route, rule, match and field")
    func pathRegex() {
        let rules = [
            rule([HTTPRouteMatch(path: .exact("/ok")), HTTPRouteMatch(path: .regularExpression("("))])
        ]
        #expect(
            Self.errors(rules) == [
                Self.prefix + "rules[0].matches[1].path.value: invalid regular expression \"(\": expected ')'"
            ]
        )
    }

    @Test(
        "Malformed header and query regexes",
        arguments: [
            (
                HTTPRouteMatch(headers: [.init(.regularExpression, name: "x", value: "[a-")]),
                "rules[0].matches[0].headers[0].value: invalid regular expression \"[a-\": expected ']'"
            ),
            (
                HTTPRouteMatch(queryParams: [
                    .init(name: "a", value: "ok"), .init(.regularExpression, name: "b", value: "a{2,1}"),
                ]),
                "rules[0].matches[0].queryParams[1].value: invalid regular expression \"a{2,1}\": range lower bound '2' must be less than or equal to upper bound '1'"
            ),
        ]
    )
    func valueRegex(match: HTTPRouteMatch, expected: String) {
        #expect(Self.errors([rule([match])]) == [Self.prefix + expected])
    }

    @Test(
        "Invalid Exact and PathPrefix values",
        arguments: [
            (HTTPRouteMatch.PathMatch.exact("foo"), "\"foo\" must start with \"/\""),
            (.pathPrefix("/a//b"), "\"/a//b\" must not contain \"//\""),
            (.pathPrefix("/a/../b"), "\"/a/../b\" must not contain \"/../\""),
            (.exact("/a%2Fb"), "\"/a%2Fb\" must not contain \"%2F\""),
            (.exact("/a/.."), "\"/a/..\" must not end with \"/..\""),
            (.exact("/a b"), "\"/a b\" contains \" \", which is not allowed in a path; percent-encode it (%XX)"),
            (.exact("/a%zz"), "\"/a%zz\" contains \"%\", which is not allowed in a path; percent-encode it (%XX)"),
        ]
    )
    func invalidPath(path: HTTPRouteMatch.PathMatch, message: String) {
        #expect(
            Self.errors([rule([HTTPRouteMatch(path: path)])]) == [
                Self.prefix + "rules[0].matches[0].path.value: " + message
            ]
        )
    }

    @Test("Every problem of a route is reported, and the route is left out while others still route")
    func collectsAndIsolates() {
        let bad = route(
            "bad",
            [
                rule([HTTPRouteMatch(path: .regularExpression("(("))]),
                rule([HTTPRouteMatch(headers: [.init(name: ":method", value: "GET")])]),
            ]
        )
        let good = route("good", [rule(to: "fallback")])
        let table = RouteTable(parent: reviews, routes: [bad, good])
        #expect(table.errors.map(\.field) == ["rules[0].matches[0].path.value", "rules[1].matches[0].headers[0].name"])
        #expect(table.errors.map(\.code) == [.invalidRegularExpression, .invalidHeaderName])
        #expect(
            table.errors[1].message == "\":method\" is an HTTP/2 pseudo-header; those cannot be matched or modified"
        )
        #expect(table.routes.map(\.name) == ["good"])
        #expect(backendName(table, request("/x")) == "fallback")
    }

    @Test(
        "Filter rules from Gateway API validation",
        arguments: [
            (
                HTTPRouteRule(
                    filters: [.requestRedirect(.init(hostname: "a.example"))],
                    backendRefs: [HTTPBackendRef(service: "v1", port: 80)]
                ),
                "rules[0].filters[0].type: RequestRedirect cannot be used with backendRefs; remove the backendRefs or the redirect"
            ),
            (
                HTTPRouteRule(filters: [.requestRedirect(.init()), .urlRewrite(.init(hostname: "x"))]),
                "rules[0].filters[1].type: RequestRedirect and URLRewrite cannot be used together (rules[0].filters[0])"
            ),
            (
                HTTPRouteRule(filters: [.requestRedirect(.init(statusCode: 304))]),
                "rules[0].filters[0].requestRedirect.statusCode: 304 is not a redirect status Gateway API allows (301, 302, 303, 307, 308)"
            ),
            (
                HTTPRouteRule(
                    matches: [HTTPRouteMatch(path: .pathPrefix("/a")), HTTPRouteMatch(path: .pathPrefix("/b"))],
                    filters: [.urlRewrite(.init(path: .replacePrefixMatch("/c")))]
                ),
                "rules[0].filters[0].urlRewrite.path.type: ReplacePrefixMatch requires the rule to have exactly one match, of type PathPrefix (found 2 matches)"
            ),
            (
                HTTPRouteRule(
                    matches: [HTTPRouteMatch(path: .exact("/a"))],
                    filters: [.requestRedirect(.init(path: .replacePrefixMatch("/c")))]
                ),
                "rules[0].filters[0].requestRedirect.path.type: ReplacePrefixMatch requires the rule to have exactly one match, of type PathPrefix (found one Exact match)"
            ),
            (
                HTTPRouteRule(
                    filters: [
                        .requestHeaderModifier(.init(set: [.init("a", "1")])),
                        .requestHeaderModifier(.init(remove: ["b"])),
                    ],
                    backendRefs: [HTTPBackendRef(service: "v1", port: 80)]
                ),
                "rules[0].filters[1].type: RequestHeaderModifier may appear only once; rules[0].filters[0] is one already"
            ),
            (
                HTTPRouteRule(
                    filters: [.responseHeaderModifier(.init(set: [.init("X-A", "1")], remove: ["x-a"]))],
                    backendRefs: [HTTPBackendRef(service: "v1", port: 80)]
                ),
                "rules[0].filters[0].responseHeaderModifier.remove[0]: header \"x-a\" already appears in set[0]; a header may appear in only one action of a filter"
            ),
            (
                HTTPRouteRule(
                    filters: [.requestMirror(.init(backend: .init(name: "m", port: 80), portion: .percent(150)))],
                    backendRefs: [HTTPBackendRef(service: "v1", port: 80)]
                ),
                "rules[0].filters[0].requestMirror.percent: 150 is out of range 0-100"
            ),
            (
                HTTPRouteRule(
                    filters: [
                        .requestMirror(
                            .init(backend: .init(name: "m", port: 80), portion: .fraction(numerator: 3, denominator: 2))
                        )
                    ],
                    backendRefs: [HTTPBackendRef(service: "v1", port: 80)]
                ),
                "rules[0].filters[0].requestMirror.fraction.numerator: 3 must be between 0 and the denominator (2)"
            ),
            (
                HTTPRouteRule(
                    backendRefs: [HTTPBackendRef(service: "v1", port: 80, filters: [.requestRedirect(.init())])]),
                "rules[0].backendRefs[0].filters[0].type: RequestRedirect is only allowed in rules[].filters"
            ),
        ]
    )
    func filters(rule: HTTPRouteRule, expected: String) {
        #expect(Self.errors([rule]) == [Self.prefix + expected])
    }

    @Test(
        "Backends, timeouts and retries",
        arguments: [
            (
                HTTPRouteRule(backendRefs: [HTTPBackendRef(service: "v1", port: 80, weight: 1_000_001)]),
                "rules[0].backendRefs[0].weight: 1000001 is out of range 0-1000000"
            ),
            (
                HTTPRouteRule(
                    backendRefs: [HTTPBackendRef(service: "v1", port: 80)],
                    timeouts: .init(request: .seconds(10), backendRequest: .milliseconds(10_500))
                ),
                "rules[0].timeouts.backendRequest: 10500ms exceeds timeouts.request (10s); one attempt cannot outlast the whole request"
            ),
            (
                HTTPRouteRule(backendRefs: [HTTPBackendRef(service: "v1", port: 80)], retry: .init(codes: [503, 200])),
                "rules[0].retry.codes[1]: 200 is out of range 400-599"
            ),
        ]
    )
    func policies(rule: HTTPRouteRule, expected: String) {
        #expect(Self.errors([rule]) == [Self.prefix + expected])
    }

    @Test(
        "Hostnames",
        arguments: [
            ("10.0.0.1", "hostnames[0]: \"10.0.0.1\" is an IP address; hostnames must be DNS names"),
            (
                "a.*.example.com",
                "hostnames[0]: \"a.*.example.com\" is not a hostname (no port, path, or wildcard other than a leading \"*.\")"
            ),
            ("*.", "hostnames[0]: \"*.\": a wildcard must be the whole first label, as in \"*.example.com\""),
            (
                "reviews:9080",
                "hostnames[0]: \"reviews:9080\" is not a hostname (no port, path, or wildcard other than a leading \"*.\")"
            ),
        ]
    )
    func hostnames(hostname: String, expected: String) {
        #expect(Self.errors([rule()], hostnames: [hostname]) == [Self.prefix + expected])
    }

    @Test("Valid edge cases compile: request timeout 0s disables the limit, backendRequest may then be anything")
    func validEdges() {
        let rule = HTTPRouteRule(
            backendRefs: [
                HTTPBackendRef(service: "v1", port: 80, weight: 0),
                HTTPBackendRef(service: "v2", port: 80, weight: 1_000_000),
            ],
            timeouts: .init(request: .zero, backendRequest: .seconds(30)),
            retry: .init(codes: [500, 502, 503, 504], attempts: 3, backoff: .milliseconds(100))
        )
        let table = RouteTable(parent: reviews, routes: [route("r", [rule])])
        #expect(table.errors.isEmpty)
        let selection = table.match(request("/"))
        #expect(selection?.timeouts?.effectiveRequest == nil)
        #expect(selection?.timeouts?.effectiveBackendRequest == .seconds(30))
        #expect(selection?.retry?.effectiveAttempts == 3)
        #expect(selection?.retry?.retries(status: 503) == true)
        #expect(HTTPRouteRule.Retry().effectiveAttempts == 2)
    }

    @Test("A filter the waypoint cannot apply answers 500 instead of being skipped")
    func unsupportedFilter() {
        let rule = HTTPRouteRule(
            filters: [.unsupported(type: "ExtensionRef")],
            backendRefs: [HTTPBackendRef(service: "v1", port: 80)]
        )
        let selection = RouteTable(parent: reviews, routes: [route("r", [rule])]).match(request("/"))
        #expect(selection?.outcome == .failure(.unsupportedFilter(type: "ExtensionRef")))
        #expect(selection?.localStatusCode == 500)
    }

    @Test("Errors compare by code")
    func equality() {
        let a = RouteCompileError(
            code: .invalidPath,
            route: RouteReference(namespace: "a", name: "b"),
            field: "x",
            message: "m"
        )
        let b = RouteCompileError(
            code: .invalidPath,
            route: RouteReference(namespace: "c", name: "d"),
            field: "y",
            message: "n"
        )
        #expect(a == b)
        #expect(a.description == "HTTPRoute a/b: x: m")
        #expect(RouteCompileError.Code.invalidFilter.description == "invalidFilter")
    }
}
