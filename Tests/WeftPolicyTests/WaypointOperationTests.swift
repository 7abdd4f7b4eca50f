// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// `to[].operation` at the waypoint: hosts (case-insensitive, with and without port), methods, paths
/// (string forms and `{*}`/`{**}` templates) and ports, each with its `not` twin.
@Suite("Waypoint: operation fields")
struct WaypointOperationTests {
    static func to(_ operation: Operation) -> Rule { rule(to: [operation]) }

    static let hostCases: [RequestCase] = [
        RequestCase("hosts exact", to(Operation(hosts: ["web.shop.svc.cluster.local"])), matches: true),
        RequestCase("hosts exact miss", to(Operation(hosts: ["api.shop.svc.cluster.local"])), matches: false),
        RequestCase("hosts value case-insensitive", to(Operation(hosts: ["WEB.Shop.svc.cluster.local"])), matches: true),
        RequestCase(
            "hosts authority case-insensitive", to(Operation(hosts: ["web.shop.svc.cluster.local"])),
            request(host: "Web.SHOP.svc.cluster.local"), matches: true),
        RequestCase(
            "hosts exact, authority with port", to(Operation(hosts: ["web.shop.svc.cluster.local"])),
            request(host: "web.shop.svc.cluster.local:8080"), matches: true),
        RequestCase(
            "hosts value with port, authority with port", to(Operation(hosts: ["web.shop.svc.cluster.local:8080"])),
            request(host: "web.shop.svc.cluster.local:8080"), matches: true),
        RequestCase(
            "hosts value with port, other port", to(Operation(hosts: ["web.shop.svc.cluster.local:8080"])),
            request(host: "web.shop.svc.cluster.local:9090"), matches: false),
        RequestCase("hosts value with port, authority without", to(Operation(hosts: ["web.shop.svc.cluster.local:8080"])), matches: false),
        RequestCase("hosts *. wildcard", to(Operation(hosts: ["*.shop.svc.cluster.local"])), matches: true),
        RequestCase("hosts *. wildcard, deeper", to(Operation(hosts: ["*.svc.cluster.local"])), matches: true),
        RequestCase("hosts *. wildcard miss", to(Operation(hosts: ["*.billing.svc.cluster.local"])), matches: false),
        RequestCase(
            "hosts *. wildcard, authority with port", to(Operation(hosts: ["*.shop.svc.cluster.local"])),
            request(host: "web.shop.svc.cluster.local:80"), matches: true),
        RequestCase(
            "hosts *. wildcard does not match the bare domain", to(Operation(hosts: ["*.example.com"])),
            request(host: "example.com"), matches: false),
        RequestCase(
            "hosts suffix without dot is a plain suffix", to(Operation(hosts: ["*example.com"])),
            request(host: "badexample.com"), matches: true),
        RequestCase("hosts prefix", to(Operation(hosts: ["web.*"])), matches: true),
        RequestCase("hosts prefix miss", to(Operation(hosts: ["api.*"])), matches: false),
        RequestCase(
            "hosts any-port prefix, authority with port", to(Operation(hosts: ["web.shop.svc.cluster.local:*"])),
            request(host: "web.shop.svc.cluster.local:8080"), matches: true),
        RequestCase("hosts any-port prefix, authority without", to(Operation(hosts: ["web.shop.svc.cluster.local:*"])), matches: false),
        RequestCase("hosts presence", to(Operation(hosts: ["*"])), matches: true),
        RequestCase("hosts presence, empty authority", to(Operation(hosts: ["*"])), request(host: ""), matches: false),
        RequestCase(
            "hosts IPv6 literal with port", to(Operation(hosts: ["[fd00::1]"])), request(host: "[FD00::1]:8080"),
            matches: true),
        RequestCase("hosts values ORed", to(Operation(hosts: ["a.example", "web.shop.svc.cluster.local"])), matches: true),
        RequestCase("notHosts excludes", to(Operation(notHosts: ["web.shop.svc.cluster.local"])), matches: false),
        RequestCase("notHosts excludes case-insensitively", to(Operation(notHosts: ["WEB.SHOP.SVC.CLUSTER.LOCAL"])), matches: false),
        RequestCase(
            "notHosts excludes with a port in the authority", to(Operation(notHosts: ["web.shop.svc.cluster.local"])),
            request(host: "web.shop.svc.cluster.local:8080"), matches: false),
        RequestCase("notHosts other", to(Operation(notHosts: ["*.billing.svc.cluster.local"])), matches: true),
    ]

    static let methodCases: [RequestCase] = [
        RequestCase("methods exact", to(Operation(methods: ["GET"])), matches: true),
        RequestCase("methods are case-sensitive", to(Operation(methods: ["get"])), matches: false),
        RequestCase("methods miss", to(Operation(methods: ["POST", "PUT"])), matches: false),
        RequestCase("methods ORed", to(Operation(methods: ["POST", "GET"])), matches: true),
        RequestCase("methods prefix", to(Operation(methods: ["G*"])), matches: true),
        RequestCase("methods presence", to(Operation(methods: ["*"])), matches: true),
        RequestCase("methods gRPC is POST", to(Operation(methods: ["POST"])), request("POST", path: "/pkg.Service/Method"), matches: true),
        RequestCase("notMethods excludes", to(Operation(notMethods: ["GET"])), matches: false),
        RequestCase("notMethods other", to(Operation(notMethods: ["DELETE"])), matches: true),
        RequestCase(
            "methods and notMethods", to(Operation(methods: ["*"], notMethods: ["DELETE"])), request("DELETE"), matches: false),
    ]

    static let pathCases: [RequestCase] = [
        RequestCase("paths exact", to(Operation(paths: ["/api/items"])), matches: true),
        RequestCase("paths exact miss", to(Operation(paths: ["/api"])), matches: false),
        RequestCase("paths are case-sensitive", to(Operation(paths: ["/API/items"])), matches: false),
        RequestCase("paths prefix with slash", to(Operation(paths: ["/api/*"])), matches: true),
        RequestCase("paths prefix", to(Operation(paths: ["/api*"])), matches: true),
        RequestCase("paths prefix miss", to(Operation(paths: ["/admin/*"])), matches: false),
        RequestCase("paths suffix", to(Operation(paths: ["*/items"])), matches: true),
        RequestCase("paths suffix miss", to(Operation(paths: ["*.html"])), matches: false),
        RequestCase("paths presence", to(Operation(paths: ["*"])), matches: true),
        RequestCase("paths exclude the query", to(Operation(paths: ["/api/items"])), request(path: "/api/items?page=2"), matches: true),
        RequestCase("paths never see the query", to(Operation(paths: ["/api/items?page=2"])), request(path: "/api/items?page=2"), matches: false),
        RequestCase("paths gRPC", to(Operation(paths: ["/pkg.Service/*"])), request("POST", path: "/pkg.Service/Method"), matches: true),
        RequestCase("notPaths excludes", to(Operation(notPaths: ["/api/*"])), matches: false),
        RequestCase("notPaths other", to(Operation(notPaths: ["/admin/*"])), matches: true),
        RequestCase("notPaths template excludes", to(Operation(notPaths: ["/api/{*}"])), matches: false),
        RequestCase("paths and notPaths", to(Operation(paths: ["/api/*"], notPaths: ["*/items"])), matches: false),
    ]

    static let portCases: [RequestCase] = [
        RequestCase("ports", to(Operation(ports: [8080])), matches: true),
        RequestCase("ports miss", to(Operation(ports: [80, 443])), matches: false),
        RequestCase("notPorts excludes", to(Operation(notPorts: [8080])), matches: false),
        RequestCase("notPorts other", to(Operation(notPorts: [15021])), matches: true),
        RequestCase("fields in one operation are ANDed", to(Operation(ports: [8080], methods: ["POST"])), matches: false),
        RequestCase(
            "operations are ORed", rule(to: [Operation(methods: ["POST"]), Operation(paths: ["/api/*"])]), matches: true),
    ]

    @Test("hosts and notHosts", arguments: hostCases)
    func hosts(_ row: RequestCase) { WaypointSourceTests.check(row) }

    @Test("methods and notMethods", arguments: methodCases)
    func methods(_ row: RequestCase) { WaypointSourceTests.check(row) }

    @Test("paths and notPaths", arguments: pathCases)
    func paths(_ row: RequestCase) { WaypointSourceTests.check(row) }

    @Test("ports and structure", arguments: portCases)
    func ports(_ row: RequestCase) { WaypointSourceTests.check(row) }

    /// Envoy's URI-template semantics, which Istio compiles `{*}`/`{**}` to.
    @Test(
        "path templates",
        arguments: [
            ("/foo/{*}", "/foo/bar", true), ("/foo/{*}", "/foo/bar/baz", false), ("/foo/{*}", "/foo/", false),
            ("/foo/{*}", "/foo", false), ("/foo/{*}", "/foo/bar/", false),
            ("/foo/{**}", "/foo/", true), ("/foo/{**}", "/foo/bar", true), ("/foo/{**}", "/foo/bar/baz", true),
            ("/foo/{**}", "/foo", false), ("/foo/{**}", "/foobar", false),
            ("/foo/{**}/", "/foo/bar/", true), ("/foo/{**}/", "/foo//", true), ("/foo/{**}/", "/foo/a/b/", true),
            ("/foo/{**}/", "/foo/bar", false), ("/foo/{**}/", "/foo/bar/baz.txt", false),
            ("/foo/{*}/bar/{**}", "/foo/buzz/bar/", true), ("/foo/{*}/bar/{**}", "/foo/buzz/bar/baz", true),
            ("/foo/{*}/bar/{**}", "/foo/buzz/bar", false), ("/foo/{*}/bar/{**}", "/foo/buzz/qux/bar/", false),
            ("/foo/{**}/bar", "/foo/x/y/bar", true), ("/foo/{**}/bar", "/foo//bar", true), ("/foo/{**}/bar", "/foo/bar", false),
            ("/foo/{**}/bar", "/foo/x/bar/baz", false),
            ("/{*}", "/x", true), ("/{*}", "/", false), ("/{*}", "/x/y", false),
            ("/{**}", "/", true), ("/{**}", "/a/b/c", true),
            ("/{*}/", "/x/", true), ("/{*}/", "/x", false),
            ("/api/{*}/items", "/api/v1/items", true), ("/api/{*}/items", "/api/v1/v2/items", false),
            ("/foo/{*}", "/foo/a%20b", true), ("/foo/{*}", "/foo/a=b;c", true), ("/foo/{*}", "/foo/a*b", false),
            ("/foo/{*}", "/foo/a[b", false), ("/foo/{**}", "/foo/a/[b", false),
            ("/Foo/{*}", "/foo/x", false),
        ])
    func templates(_ template: String, _ path: String, _ matches: Bool) {
        let row = RequestCase("\(template) vs \(path)", Self.to(Operation(paths: [template])), request(path: path), matches: matches)
        WaypointSourceTests.check(row)
    }

    /// Templates istiod rejects match nothing when built in code (the loader reports them first): `paths`
    /// fails closed, `notPaths` excludes nothing, and explanations say why.
    @Test(
        "invalid path templates match nothing",
        arguments: [
            "/foo/{*}.txt", "/*/baz/{*}", "/**/baz/{*}", "/{**}/foo/{*}", "/foo/{**}/{**}", "/foo//{*}", "foo/{*}",
            "//{*}", "/foo/{*}//", "/foo/{*", "/foo/{x}/{*}", "/foo/{*}{*}",
        ])
    func invalidTemplates(_ template: String) throws {
        let paths = waypointSet([waypointPolicy("allow", rules: [Self.to(Operation(paths: [template]))])])
        for path in ["/foo/bar", "/foo/bar.txt", "/x/baz/y", "/foo/a/b"] {
            #expect(!paths.evaluate(request(path: path)).isAllowed, "\(template) vs \(path)")
        }
        let notPaths = waypointSet([waypointPolicy("allow", rules: [Self.to(Operation(notPaths: [template]))])])
        #expect(notPaths.evaluate(request(path: "/foo/bar")).isAllowed)
        let details = try #require(paths.explain(request(path: "/foo/bar")).policies.first?.rules.first?.details)
        #expect(details.first?.contains("\"\(template)\" (invalid path template)") == true)
    }
}
