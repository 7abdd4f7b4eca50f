// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// `RequestHeaderModifier` / `ResponseHeaderModifier`: set replaces, add appends, remove deletes.
@Suite("Header modifiers")
struct HeaderModifierTests {
    typealias Modifier = HTTPRouteFilter.HeaderModifier

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let modifier: Modifier
        let before: [HTTPHeaderField]
        let after: [HTTPHeaderField]
        var testDescription: String { name }

        init(_ name: String, _ modifier: Modifier, _ before: [(String, String)], _ after: [(String, String)]) {
            self.name = name
            self.modifier = modifier
            self.before = before.map { HTTPHeaderField($0.0, $0.1) }
            self.after = after.map { HTTPHeaderField($0.0, $0.1) }
        }
    }

    static let rows: [Row] = [
        Row(
            "set adds a missing header",
            Modifier(set: [.init("X-Set", "1")]),
            [("a", "b")],
            [("a", "b"), ("X-Set", "1")]
        ),
        Row(
            "set replaces every value, in place, case-insensitively",
            Modifier(set: [.init("X-Set", "new")]),
            [("x-set", "old1"), ("a", "b"), ("X-SET", "old2")],
            [("X-Set", "new"), ("a", "b")]
        ),
        Row(
            "add appends after existing values",
            Modifier(add: [.init("x-add", "add-appends-values")]),
            [("x-add", "some-other-value")],
            [("x-add", "some-other-value"), ("x-add", "add-appends-values")]
        ),
        Row("add to a missing header", Modifier(add: [.init("x-add", "v")]), [], [("x-add", "v")]),
        Row(
            "remove deletes every field of the name, case-insensitively",
            Modifier(remove: ["X-Remove"]),
            [("x-remove", "1"), ("keep", "2"), ("X-REMOVE", "3")],
            [("keep", "2")]
        ),
        Row("remove of an absent header is a no-op", Modifier(remove: ["x-none"]), [("a", "1")], [("a", "1")]),
        Row(
            "all three actions together",
            Modifier(set: [.init("s", "S")], add: [.init("a", "A2")], remove: ["r"]),
            [("r", "x"), ("a", "A1"), ("s", "old")],
            [("a", "A1"), ("s", "S"), ("a", "A2")]
        ),
        Row("an empty modifier changes nothing", Modifier(), [("a", "1")], [("a", "1")]),
    ]

    @Test("set, add and remove", arguments: rows)
    func apply(_ row: Row) {
        var headers = row.before
        row.modifier.apply(to: &headers)
        #expect(headers == row.after)
        #expect(headers.combinedValue(named: "x-add") == row.after.combinedValue(named: "x-add"))
    }

    @Test("A selection applies rule filters, then the chosen backend's, to request and response")
    func selectionOrder() {
        let rule = HTTPRouteRule(
            filters: [
                .requestHeaderModifier(Modifier(set: [.init("x-layer", "rule")], add: [.init("x-rule", "1")])),
                .responseHeaderModifier(Modifier(set: [.init("x-resp", "rule")])),
            ],
            backendRefs: [
                HTTPBackendRef(
                    service: "v1",
                    port: 9080,
                    filters: [
                        .requestHeaderModifier(Modifier(set: [.init("x-layer", "backend")])),
                        .responseHeaderModifier(Modifier(add: [.init("x-resp", "backend")])),
                    ]
                )
            ]
        )
        let table = RouteTable(parent: reviews, routes: [route("r", [rule])])
        let original = request("/", headers: [("x-layer", "client")])
        guard let selection = table.match(original) else {
            Issue.record("no selection")
            return
        }
        var forwarded = original
        selection.applyRequestFilters(to: &forwarded)
        #expect(forwarded.headers == [HTTPHeaderField("x-layer", "backend"), HTTPHeaderField("x-rule", "1")])
        var response = [HTTPHeaderField("content-type", "text/plain")]
        selection.applyResponseFilters(to: &response)
        #expect(response.combinedValue(named: "x-resp") == "rule,backend")
    }
}
