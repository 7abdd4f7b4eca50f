// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// Header, query parameter and method matching, each ANDed with the path.
@Suite("Header, query and method matching")
struct RequestMatchingTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let match: HTTPRouteMatch
        let request: RouteRequest
        let expected: Bool
        var testDescription: String { name }

        init(_ name: String, _ match: HTTPRouteMatch, _ request: RouteRequest, _ expected: Bool) {
            self.name = name
            self.match = match
            self.request = request
            self.expected = expected
        }
    }

    static func header(_ name: String, _ value: String, _ type: HTTPRouteMatch.ValueMatchType = .exact)
        -> HTTPRouteMatch
    {
        HTTPRouteMatch(headers: [.init(type, name: name, value: value)])
    }

    static func query(_ name: String, _ value: String, _ type: HTTPRouteMatch.ValueMatchType = .exact)
        -> HTTPRouteMatch
    {
        HTTPRouteMatch(queryParams: [.init(type, name: name, value: value)])
    }

    static let headerRows: [Row] = [
        Row("exact value", header("version", "v2"), request("/", headers: [("version", "v2")]), true),
        Row("name is case-insensitive", header("Version", "v2"), request("/", headers: [("VERSION", "v2")]), true),
        Row("value is case-sensitive", header("version", "v2"), request("/", headers: [("version", "V2")]), false),
        Row("absent header", header("version", "v2"), request("/"), false),
        Row("other header only", header("version", "v2"), request("/", headers: [("x-version", "v2")]), false),
        Row(
            "empty exact value needs the header",
            header("x-empty", ""),
            request("/", headers: [("x-empty", "")]),
            true
        ),
        Row(
            "repeated header is joined with ','",
            header("x-tag", "a,b"),
            request("/", headers: [("x-tag", "a"), ("X-Tag", "b")]),
            true
        ),
        Row(
            "repeated header: one value alone is not the whole value",
            header("x-tag", "a"),
            request("/", headers: [("x-tag", "a"), ("x-tag", "b")]),
            false
        ),
        Row(
            "regex full match",
            header("user", "jason|ana", .regularExpression),
            request("/", headers: [("user", "ana")]),
            true
        ),
        Row(
            "regex is not a search",
            header("user", "ana", .regularExpression),
            request("/", headers: [("user", "banana")]),
            false
        ),
        Row(
            "regex over repeated values",
            header("x-tag", "a,.*", .regularExpression),
            request("/", headers: [("x-tag", "a"), ("x-tag", "zzz")]),
            true
        ),
        Row(
            "headers are ANDed",
            HTTPRouteMatch(headers: [.init(name: "a", value: "1"), .init(name: "b", value: "2")]),
            request("/", headers: [("a", "1")]),
            false
        ),
        Row(
            "headers are ANDed, both present",
            HTTPRouteMatch(headers: [.init(name: "a", value: "1"), .init(name: "b", value: "2")]),
            request("/", headers: [("b", "2"), ("a", "1")]),
            true
        ),
        Row(
            "duplicate entries: only the first counts",
            HTTPRouteMatch(headers: [.init(name: "a", value: "1"), .init(name: "A", value: "2")]),
            request("/", headers: [("a", "1")]),
            true
        ),
        Row(
            "header AND path",
            HTTPRouteMatch(path: .exact("/x"), headers: [.init(name: "a", value: "1")]),
            request("/y", headers: [("a", "1")]),
            false
        ),
    ]

    static let queryRows: [Row] = [
        Row("exact value", query("animal", "whale"), request("/?animal=whale"), true),
        Row("value mismatch", query("animal", "whale"), request("/?animal=dolphin"), false),
        Row("name is case-sensitive", query("animal", "whale"), request("/?Animal=whale"), false),
        Row("value is case-sensitive", query("animal", "whale"), request("/?animal=Whale"), false),
        Row("among others", query("animal", "whale"), request("/?a=1&animal=whale&b"), true),
        Row("first of repeated wins", query("animal", "whale"), request("/?animal=whale&animal=dolphin"), true),
        Row(
            "later repeated value ignored",
            query("animal", "dolphin"),
            request("/?animal=whale&animal=dolphin"),
            false
        ),
        Row("no query string", query("animal", "whale"), request("/"), false),
        Row("parameter without '=' has the empty value", query("flag", ""), request("/?flag"), true),
        Row("values are not percent-decoded", query("q", "a b"), request("/?q=a%20b"), false),
        Row("encoded value matches as sent", query("q", "a%20b"), request("/?q=a%20b"), true),
        Row("value may contain '='", query("token", "a=b"), request("/?token=a=b"), true),
        Row("regex full match", query("page", "[0-9]+", .regularExpression), request("/?page=12"), true),
        Row("regex is not a search", query("page", "[0-9]+", .regularExpression), request("/?page=12a"), false),
        Row(
            "params are ANDed",
            HTTPRouteMatch(queryParams: [.init(name: "a", value: "1"), .init(name: "b", value: "2")]),
            request("/?b=2"),
            false
        ),
    ]

    static let methodRows: [Row] = [
        Row("GET matches GET", HTTPRouteMatch(method: .get), request("/"), true),
        Row("POST does not match GET", HTTPRouteMatch(method: .post), request("/"), false),
        Row("PATCH", HTTPRouteMatch(method: .patch), request("/", method: "PATCH"), true),
        Row("methods are upper case", HTTPRouteMatch(method: .get), request("/", method: "get"), false),
        Row(
            "method AND path",
            HTTPRouteMatch(path: .exact("/a"), method: .delete),
            request("/b", method: "DELETE"),
            false
        ),
    ]

    @Test("Header matches", arguments: headerRows)
    func headers(_ row: Row) {
        #expect(matches(row.match, row.request) == row.expected)
    }

    @Test("Query parameter matches", arguments: queryRows)
    func queryParams(_ row: Row) {
        #expect(matches(row.match, row.request) == row.expected)
    }

    @Test("Method matches", arguments: methodRows)
    func methods(_ row: Row) {
        #expect(matches(row.match, row.request) == row.expected)
    }
}
