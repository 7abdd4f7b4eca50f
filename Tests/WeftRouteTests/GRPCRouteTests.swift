// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// GRPCRoute method matches, expressed as path matches on `/<service>/<method>`.
@Suite("gRPC method matching")
struct GRPCRouteTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let method: GRPCMethodMatch
        let path: String
        let expected: Bool
        var testDescription: String {
            "\(method.type.rawValue) \(method.service ?? "*")/\(method.method ?? "*") vs \(path)"
        }

        init(_ method: GRPCMethodMatch, _ path: String, _ expected: Bool) {
            self.method = method
            self.path = path
            self.expected = expected
        }
    }

    static let rows: [Row] = [
        Row(GRPCMethodMatch(service: "grpc.health.v1.Health", method: "Check"), "/grpc.health.v1.Health/Check", true),
        Row(GRPCMethodMatch(service: "grpc.health.v1.Health", method: "Check"), "/grpc.health.v1.Health/Watch", false),
        Row(GRPCMethodMatch(service: "grpc.health.v1.Health", method: "Check"), "/grpc.health.v1.HealthX/Check", false),
        Row(GRPCMethodMatch(service: "grpc.health.v1.Health"), "/grpc.health.v1.Health/Watch", true),
        Row(GRPCMethodMatch(service: "grpc.health.v1.Health"), "/grpc.health.v1.Healthy/Watch", false),
        Row(GRPCMethodMatch(method: "Check"), "/any.Service/Check", true),
        Row(GRPCMethodMatch(method: "Check"), "/any.Service/CheckAll", false),
        Row(GRPCMethodMatch(service: "a.b"), "/aXb/M", false),
        Row(
            GRPCMethodMatch(.regularExpression, service: "grpc\\.health\\..*", method: "Ch.*"),
            "/grpc.health.v1.Health/Check",
            true
        ),
        Row(
            GRPCMethodMatch(.regularExpression, service: "grpc\\.health\\..*", method: "Ch.*"),
            "/grpc.health.v1.Health/Watch",
            false
        ),
        Row(GRPCMethodMatch(.regularExpression, method: "Get|List"), "/x.Y/List", true),
        Row(GRPCMethodMatch(.regularExpression, method: "Get|List"), "/x.Y/Delete", false),
        Row(GRPCMethodMatch(), "/anything/Really", true),
    ]

    @Test("Method matches", arguments: rows)
    func methods(_ row: Row) {
        #expect(matches(HTTPRouteMatch(grpcMethod: row.method), request(row.path, method: "POST")) == row.expected)
    }

    @Test("Service and method beat service only, which beats method only")
    func precedence() {
        let routes = [
            route("method-only", [rule([HTTPRouteMatch(grpcMethod: GRPCMethodMatch(method: "Check"))], to: "method")]),
            route(
                "service-only",
                [rule([HTTPRouteMatch(grpcMethod: GRPCMethodMatch(service: "pkg.Svc"))], to: "service")]
            ),
            route(
                "both",
                [rule([HTTPRouteMatch(grpcMethod: GRPCMethodMatch(service: "pkg.Svc", method: "Check"))], to: "both")]
            ),
        ]
        let table = RouteTable(parent: reviews, routes: routes)
        #expect(table.errors.isEmpty)
        #expect(backendName(table, request("/pkg.Svc/Check", method: "POST")) == "both")
        #expect(backendName(table, request("/pkg.Svc/Watch", method: "POST")) == "service")
        #expect(backendName(table, request("/other.Svc/Check", method: "POST")) == "method")
        #expect(backendName(table, request("/other.Svc/Watch", method: "POST")) == "404")
    }

    @Test("gRPC header matches combine with the method")
    func headers() {
        let match = HTTPRouteMatch(
            grpcMethod: GRPCMethodMatch(service: "pkg.Svc"),
            headers: [.init(name: "x-tenant", value: "blue")]
        )
        #expect(matches(match, request("/pkg.Svc/M", method: "POST", headers: [("x-tenant", "blue")])))
        #expect(!matches(match, request("/pkg.Svc/M", method: "POST")))
    }
}
