// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// The request view: path and query split, host without port, query parameters.
@Suite("Request view")
struct RouteRequestTests {
    @Test("Path and query are split at the first '?'")
    func pathAndQuery() {
        let request = RouteRequest(path: "/a/b?x=1&y=?")
        #expect(request.pathWithoutQuery == "/a/b")
        #expect(request.query == "x=1&y=?")
        #expect(RouteRequest(path: "/a").query == nil)
        #expect(RouteRequest(path: "/a?").query == "")
    }

    @Test(
        "The host drops the port, keeping IPv6 brackets",
        arguments: [
            ("reviews.shop:9080", "reviews.shop"), ("reviews", "reviews"), ("[fd00::1]:80", "[fd00::1]"),
            ("[fd00::1]", "[fd00::1]"), ("", ""),
        ]
    )
    func host(authority: String, expected: String) {
        #expect(RouteRequest(path: "/", authority: authority).host == expected[...])
    }

    @Test("Query parameters keep order, repeats and empty values; empty pairs are skipped")
    func parameters() {
        let request = RouteRequest(path: "/?a=1&&b&a=2&c=x=y")
        let pairs = request.queryParameters.map { "\($0.name)=\($0.value)" }
        #expect(pairs == ["a=1", "b=", "a=2", "c=x=y"])
        #expect(request.queryValue(named: "a") == "1")
        #expect(request.queryValue(named: "b") == "")
        #expect(request.queryValue(named: "z") == nil)
    }

    @Test("Header lookups ignore case and fold repeats with ','")
    func headerValues() {
        let headers = [HTTPHeaderField("Accept", "a"), HTTPHeaderField("x", "1"), HTTPHeaderField("ACCEPT", "b")]
        #expect(headers.values(named: "accept") == ["a", "b"])
        #expect(headers.combinedValue(named: "Accept") == "a,b")
        #expect(headers.combinedValue(named: "missing") == nil)
    }
}
