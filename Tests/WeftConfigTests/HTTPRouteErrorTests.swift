// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftConfig
import WeftModel
import WeftRoute

/// Problems in an HTTPRoute, each reported at its line with the field path; the route is rejected and
/// every other problem is still reported.
@Suite("HTTPRoute errors")
struct HTTPRouteErrorTests {
    /// A route in `r.yaml` whose first rule starts on line 7; `rule` continues with 4-space indentation.
    static func route(rule: String, spec: String = "") -> String {
        let body = rule.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset == 0 ? "  - " + $0.element : "    " + $0.element }.joined(separator: "\n")
        return """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: shop}
            spec:
              parentRefs: [{group: "", kind: Service, name: reviews}]\(spec)
              rules:
            \(body)
            """
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var rule: String
        /// `line: field: message`, without the file and object.
        var errors: [String]
        var testDescription: String { errors.first ?? rule }
    }

    static let cases: [Case] = [
        Case(
            rule: "matches: [{path: {type: Prefix, value: /a}}]",
            errors: [
                "7: spec.rules[0].matches[0].path.type: unknown value \"Prefix\"; use one of Exact, PathPrefix, "
                    + "RegularExpression"
            ]),
        Case(
            rule: "matches: [{path: {type: RegularExpression, value: \"/a(\"}}]",
            errors: ["7: spec.rules[0].matches[0].path.value: invalid regular expression \"/a(\": expected ')'"]),
        Case(
            rule: """
                matches:
                - path: {type: Bogus}
                - headers: [{type: RegularExpression, name: x, value: "[a-"}]
                - headers: [{type: Prefix, name: x, value: y}]
                """,
            errors: [
                "8: spec.rules[0].matches[0].path.type: unknown value \"Bogus\"; use one of Exact, PathPrefix, "
                    + "RegularExpression",
                "9: spec.rules[0].matches[1].headers[0].value: invalid regular expression \"[a-\": expected ']'",
                "10: spec.rules[0].matches[2].headers[0].type: unknown value \"Prefix\"; use one of Exact, "
                    + "RegularExpression",
            ]),
        Case(
            rule: """
                matches:
                - method: get
                  queryParams: [{name: "", value: a}, {type: RegularExpression, name: b, value: "a{2,1}"}]
                """,
            errors: [
                "8: spec.rules[0].matches[0].method: unknown value \"get\"; use one of GET, HEAD, POST, PUT, DELETE, "
                    + "CONNECT, OPTIONS, TRACE, PATCH",
                "9: spec.rules[0].matches[0].queryParams[0].name: must not be empty; name the query parameter to match",
                "9: spec.rules[0].matches[0].queryParams[1].value: invalid regular expression \"a{2,1}\": range lower "
                    + "bound '2' must be less than or equal to upper bound '1'",
            ]),
        Case(
            rule: """
                matches: [{path: {type: Exact, value: "reviews"}, headers: [{name: ":authority", value: a}]}]
                """,
            errors: [
                "7: spec.rules[0].matches[0].path.value: \"reviews\" must start with \"/\"",
                "7: spec.rules[0].matches[0].headers[0].name: \":authority\" is an HTTP/2 pseudo-header; those "
                    + "cannot be matched or modified",
            ]),
        Case(
            rule: """
                backendRefs:
                - {name: a, port: 80, weight: "50%"}
                - {name: b, port: 80, weight: 1000001}
                - {name: c}
                - {name: d, port: 80, weight: -1}
                """,
            errors: [
                "8: spec.rules[0].backendRefs[0].weight: must be an integer, got \"50%\"",
                "9: spec.rules[0].backendRefs[1].weight: 1000001 is out of range 0-1000000",
                "10: spec.rules[0].backendRefs[2].port: missing spec.rules[0].backendRefs[2].port; a Service backend "
                    + "needs the Service port to send to",
                "11: spec.rules[0].backendRefs[3].weight: -1 is out of range 0-1000000",
            ]),
        Case(
            rule: """
                timeouts: {request: 1.5s, backendRequest: 1d}
                retry: {backoff: "10", codes: [x, 600], attempts: two}
                """,
            errors: [
                "7: spec.rules[0].timeouts.request: \"1.5s\" is not a Gateway API duration (such as 500ms, 10s or "
                    + "1h30m): fractions are not allowed; use a smaller unit (1500ms, not 1.5s)",
                "7: spec.rules[0].timeouts.backendRequest: \"1d\" is not a Gateway API duration (such as 500ms, 10s "
                    + "or 1h30m): unit \"d\" is not allowed; use h, m, s or ms (the largest unit is h)",
                // One line: the translator's findings in reading order, then the compiler's.
                "8: spec.rules[0].retry.codes[0]: must be an integer, got \"x\"",
                "8: spec.rules[0].retry.attempts: must be an integer, got \"two\"",
                "8: spec.rules[0].retry.backoff: \"10\" is not a Gateway API duration (such as 500ms, 10s or 1h30m): "
                    + "10 has no unit; add h, m, s or ms",
                "8: spec.rules[0].retry.codes[1]: 600 is out of range 400-599",
            ]),
        Case(
            rule: """
                timeouts:
                  request: 1s
                  backendRequest: 2s
                """,
            errors: [
                "9: spec.rules[0].timeouts.backendRequest: 2s exceeds timeouts.request (1s); one attempt cannot "
                    + "outlast the whole request"
            ]),
        Case(
            rule: """
                filters:
                - type: RequestHeaderModifier
                - type: URLRewrite
                  requestRedirect: {statusCode: 301}
                  urlRewrite: {hostname: a}
                - type: RequestRedirect
                  requestRedirect: {scheme: ftp}
                """,
            errors: [
                "8: spec.rules[0].filters[0].requestHeaderModifier: missing spec.rules[0].filters[0]"
                    + ".requestHeaderModifier; a RequestHeaderModifier filter needs its settings in "
                    + "requestHeaderModifier",
                "10: spec.rules[0].filters[1].requestRedirect: requestRedirect is only allowed with type "
                    + "RequestRedirect; remove it or change type",
                "12: spec.rules[0].filters[2].type: RequestRedirect and URLRewrite cannot be used together "
                    + "(spec.rules[0].filters[1])",
                "13: spec.rules[0].filters[2].requestRedirect.scheme: unknown value \"ftp\"; use one of http, https",
            ]),
        Case(
            rule: """
                matches: [{path: {type: Exact, value: /a}}]
                filters:
                - type: RequestRedirect
                  requestRedirect:
                    statusCode: 200
                    path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}
                - type: URLRewrite
                  urlRewrite: {path: {type: ReplaceFullPath}}
                - type: URLRewrite
                  urlRewrite: {hostname: b}
                backendRefs: [{name: a, port: 80}]
                """,
            errors: [
                "9: spec.rules[0].filters[0].type: RequestRedirect cannot be used with backendRefs; remove the "
                    + "backendRefs or the redirect",
                "11: spec.rules[0].filters[0].requestRedirect.statusCode: 200 is not a redirect status Gateway API "
                    + "allows (301, 302, 303, 307, 308)",
                "12: spec.rules[0].filters[0].requestRedirect.path.type: ReplacePrefixMatch requires the rule to have "
                    + "exactly one match, of type PathPrefix (found one Exact match)",
                "13: spec.rules[0].filters[1].type: RequestRedirect and URLRewrite cannot be used together "
                    + "(spec.rules[0].filters[0])",
                "14: spec.rules[0].filters[1].urlRewrite.path.replaceFullPath: missing spec.rules[0].filters[1]"
                    + ".urlRewrite.path.replaceFullPath; type ReplaceFullPath needs replaceFullPath",
                "15: spec.rules[0].filters[2].type: URLRewrite may appear only once; spec.rules[0].filters[1] is one "
                    + "already",
            ]),
        Case(
            rule: """
                filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set: [{name: X-A, value: "1"}]
                    remove: [x-a, "bad header"]
                - type: RequestMirror
                  requestMirror: {backendRef: {name: m, port: 80}, percent: 10, fraction: {numerator: 1}}
                - type: RequestMirror
                  requestMirror: {backendRef: {name: m, port: 80}, percent: 101}
                """,
            errors: [
                "11: spec.rules[0].filters[0].requestHeaderModifier.remove[0]: header \"x-a\" already appears in "
                    + "set[0]; a header may appear in only one action of a filter",
                "11: spec.rules[0].filters[0].requestHeaderModifier.remove[1]: \"bad header\" is not a valid header "
                    + "name",
                "13: spec.rules[0].filters[1].requestMirror.fraction: only one of percent and fraction may be set",
                "15: spec.rules[0].filters[2].requestMirror.percent: 101 is out of range 0-100",
            ]),
    ]

    @Test("Each problem at its line and field", arguments: cases)
    func errors(_ testCase: Case) {
        let result = load(Self.route(rule: testCase.rule), file: "r.yaml")
        let expected = testCase.errors.map { "r.yaml:" + $0.replacingFirst(": ", with: ": HTTPRoute/shop/r: ") }
        #expect(result.printedErrors == expected)
        #expect(result.snapshot == nil && result.routes == nil)
    }

    @Test("Route-level problems: hostnames, parentRefs, apiVersion, list limits")
    func routeLevel() {
        let rules = (0..<17).map { _ in "- {}" }.joined(separator: "\n  ")
        let result = load(
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: shop}
            spec:
              parentRefs: [{group: "", kind: Service, port: 70000}]
              hostnames: [ok.example.com, 10.0.0.1, "*.*.example.com"]
              rules:
              \(rules)
            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: HTTPRoute
            metadata: {name: old, namespace: shop}
            """, file: "r.yaml")
        #expect(result.printedErrors == [
            "r.yaml:5: HTTPRoute/shop/r: spec.parentRefs[0].name: missing spec.parentRefs[0].name; name the Service "
                + "(or waypoint Gateway) the route attaches to",
            "r.yaml:5: HTTPRoute/shop/r: spec.parentRefs[0].port: must be an integer between 1 and 65535, got 70000",
            "r.yaml:6: HTTPRoute/shop/r: spec.hostnames[1]: \"10.0.0.1\" is an IP address; hostnames must be DNS names",
            "r.yaml:6: HTTPRoute/shop/r: spec.hostnames[2]: \"*.*.example.com\": a wildcard must be the whole first "
                + "label, as in \"*.example.com\"",
            "r.yaml:7: HTTPRoute/shop/r: spec.rules: has 17 entries; Gateway API allows at most 16",
            "r.yaml:26: HTTPRoute/shop/old: apiVersion: HTTPRoute apiVersion gateway.networking.k8s.io/v1alpha2 is not "
                + "supported; use gateway.networking.k8s.io/v1 or gateway.networking.k8s.io/v1beta1 — the HTTPRoute "
                + "was not loaded",
        ])
    }

    @Test("Problems in several routes are all reported; a valid route next to them is unaffected")
    func everyProblemReported() {
        let bad1 = Self.route(rule: "matches: [{path: {type: RegularExpression, value: \"(\"}}]")
        let bad2 = Self.route(rule: "timeouts: {request: 5x}").replacingFirst("name: r,", with: "name: r2,")
        let good = Self.route(rule: "backendRefs: [{name: reviews, port: 9080}]")
            .replacingFirst("name: r,", with: "name: ok,")
        let result = load(documents(bad1, bad2, good, serviceYAML("reviews")), file: "r.yaml")
        #expect(result.errors.map(\.object) == ["HTTPRoute/shop/r", "HTTPRoute/shop/r2"])
        #expect(result.errors.map(\.line) == [7, 15])
        #expect(!result.warnings.contains { $0.object == "HTTPRoute/shop/ok" && $0.message.contains("does not exist") })
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
