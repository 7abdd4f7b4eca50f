// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// `path` matching: Exact, PathPrefix by segment with trailing slashes, and full-match regular expressions.
@Suite("Path matching")
struct PathMatchingTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let match: HTTPRouteMatch.PathMatch
        let path: String
        let expected: Bool
        var testDescription: String { "\(match) vs \(path) -> \(expected)" }

        init(_ match: HTTPRouteMatch.PathMatch, _ path: String, _ expected: Bool) {
            self.match = match
            self.path = path
            self.expected = expected
        }
    }

    static let exactRows: [Row] = [
        Row(.exact("/abc"), "/abc", true),
        Row(.exact("/abc"), "/abc/", false),
        Row(.exact("/abc"), "/Abc", false),
        Row(.exact("/abc"), "/abcd", false),
        Row(.exact("/abc"), "/ab", false),
        Row(.exact("/abc"), "/abc?x=1", true),
        Row(.exact("/"), "/", true),
        Row(.exact("/"), "/a", false),
        Row(.exact("/abc/"), "/abc/", true),
        Row(.exact("/abc/"), "/abc", false),
    ]

    static let prefixRows: [Row] = [
        Row(.pathPrefix("/abc"), "/abc", true),
        Row(.pathPrefix("/abc"), "/abc/", true),
        Row(.pathPrefix("/abc"), "/abc/def", true),
        Row(.pathPrefix("/abc"), "/abcd", false),
        Row(.pathPrefix("/abc"), "/ab", false),
        Row(.pathPrefix("/abc"), "/ABC", false),
        Row(.pathPrefix("/abc"), "/abc?q=1", true),
        Row(.pathPrefix("/abc/"), "/abc", true),
        Row(.pathPrefix("/abc/"), "/abc/def", true),
        Row(.pathPrefix("/abc/"), "/abcd", false),
        Row(.pathPrefix("/abc/def"), "/abc/def/ghi", true),
        Row(.pathPrefix("/abc/def"), "/abc/defg", false),
        Row(.pathPrefix("/abc/def"), "/abc", false),
        Row(.pathPrefix("/"), "/", true),
        Row(.pathPrefix("/"), "/anything/at/all", true),
        Row(.pathPrefix("/v1"), "/v1//x", true),
    ]

    static let regexRows: [Row] = [
        Row(.regularExpression("/api/v[0-9]+"), "/api/v12", true),
        Row(.regularExpression("/api/v[0-9]+"), "/api/v12/users", false),
        Row(.regularExpression("/api/v[0-9]+"), "/x/api/v12", false),
        Row(.regularExpression("/api/v[0-9]+(/.*)?"), "/api/v12/users", true),
        Row(.regularExpression("/api/v[0-9]+"), "/api/v12?page=2", true),
        Row(.regularExpression(".*/users"), "/a/b/users", true),
        Row(.regularExpression("/(?i)abc"), "/ABC", true),
        Row(.regularExpression("/caf."), "/cafe\u{301}", false),
    ]

    @Test("Exact is whole-path and case-sensitive", arguments: exactRows)
    func exact(_ row: Row) {
        #expect(matches(HTTPRouteMatch(path: row.match), request(row.path)) == row.expected)
    }

    @Test("PathPrefix matches whole segments; a trailing slash in the value is ignored", arguments: prefixRows)
    func prefix(_ row: Row) {
        #expect(matches(HTTPRouteMatch(path: row.match), request(row.path)) == row.expected)
    }

    @Test("RegularExpression must match the whole path, without the query", arguments: regexRows)
    func regex(_ row: Row) {
        #expect(matches(HTTPRouteMatch(path: row.match), request(row.path)) == row.expected)
    }

    @Test("A rule without matches, and a match without a path, both mean PathPrefix /")
    func defaults() {
        let table = RouteTable(parent: reviews, routes: [route("r", [rule()])])
        #expect(table.firstMatch(request("/any/thing"))?.matchIndex == nil)
        #expect(table.firstMatch(request("/any/thing"))?.matchedPathPrefix == "/")
        #expect(matches(HTTPRouteMatch(), request("/deep/path?q")))
    }

    @Test("Any match of a rule may select it (OR), and the selection names which one")
    func orAcrossMatches() {
        let table = RouteTable(
            parent: reviews,
            routes: [route("r", [rule([HTTPRouteMatch(path: .exact("/a")), HTTPRouteMatch(path: .exact("/b"))])])]
        )
        #expect(table.firstMatch(request("/a"))?.matchIndex == 0)
        #expect(table.firstMatch(request("/b"))?.matchIndex == 1)
        #expect(table.firstMatch(request("/c")) == nil)
    }
}
