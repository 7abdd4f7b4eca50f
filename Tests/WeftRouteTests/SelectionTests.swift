// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// What a selection carries besides the backend, and sharing a table across tasks.
@Suite("Selections")
struct SelectionTests {
    @Test("A selection names the route, rule and match, and carries timeouts and retry")
    func identity() {
        let rule = HTTPRouteRule(
            name: "api",
            matches: [HTTPRouteMatch(path: .exact("/health")), HTTPRouteMatch(path: .pathPrefix("/api"))],
            backendRefs: [HTTPBackendRef(service: "v1", port: 9080)],
            timeouts: .init(request: .seconds(5)),
            retry: .init(codes: [503], attempts: 1, backoff: .milliseconds(25))
        )
        let table = RouteTable(parent: reviews, routes: [route("r", [HTTPRouteRule(), rule])])
        let selection = table.match(request("/api/items"))
        #expect(selection?.match.description == "shop/r rules[1].matches[1]")
        #expect(selection?.match.ruleName == "api")
        #expect(selection?.route == RouteReference(namespace: "shop", name: "r", location: "routes.yaml:1"))
        #expect(selection?.route.description == "HTTPRoute shop/r (routes.yaml:1)")
        #expect(selection?.ruleIndex == 1)
        #expect(selection?.timeouts?.effectiveRequest == .seconds(5))
        #expect(selection?.retry?.backoff == .milliseconds(25))
        #expect(selection?.localStatusCode == nil)
        #expect(table.firstMatch(request("/other"))?.description == "shop/r rules[0]")
    }

    @Test("Failures describe themselves for access logs, and all answer 500")
    func failureText() {
        let backend = RouteBackend(namespace: "shop", name: "gone", port: 80)
        let failures: [RouteSelection.Failure] = [
            .noBackend, .invalidBackend(backend, .refNotPermitted), .unsupportedFilter(type: "CORS"),
        ]
        #expect(
            failures.map(\.description) == [
                "no backend with a positive weight",
                "backend shop/gone:80 is invalid (RefNotPermitted)",
                "filter CORS is not supported by the waypoint",
            ]
        )
        #expect(Set(failures.map(\.statusCode)) == [500])
    }

    @Test("Non-ASCII and percent-encoded paths are compared byte for byte")
    func bytes() {
        let table = RouteTable(
            parent: reviews,
            routes: [
                route(
                    "r",
                    [
                        rule([HTTPRouteMatch(path: .exact("/caf%C3%A9"))], to: "encoded"),
                        rule([HTTPRouteMatch(path: .regularExpression("/café/.+"))], to: "raw"),
                    ]
                )
            ]
        )
        #expect(table.errors.isEmpty)
        #expect(backendName(table, request("/caf%C3%A9")) == "encoded")
        #expect(backendName(table, request("/caf%c3%a9")) == "404")
        #expect(backendName(table, request("/café/menu")) == "raw")
        #expect(backendName(table, request("/cafe\u{301}/menu")) == "404")
    }

    @Test("One table serves concurrent tasks, regular expressions included")
    func concurrent() async {
        let table = RouteTable(
            parent: reviews,
            routes: [
                route(
                    "r",
                    [
                        rule(
                            [
                                HTTPRouteMatch(
                                    path: .regularExpression("/api/v[0-9]+"),
                                    headers: [.init(.regularExpression, name: "x-user", value: "[a-z]+")]
                                )
                            ])
                    ]
                )
            ]
        )
        await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var hits = 0
                    for index in 0..<500 {
                        let user = index.isMultiple(of: 2) ? "ana" : "ANA"
                        if table.firstMatch(request("/api/v\(task)\(index)", headers: [("x-user", user)])) != nil {
                            hits += 1
                        }
                    }
                    return hits
                }
            }
            for await hits in group { #expect(hits == 250) }
        }
    }
}
