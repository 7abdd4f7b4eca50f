// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftConfig
import WeftModel
import WeftRoute

/// VirtualService and DestinationRule loading: every error at its file:line and field path, and the
/// cross-object checks.
@Suite("VirtualService and DestinationRule loading")
struct VirtualServiceLoadTests {
    static let services = """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: shop}
        spec: {clusterIP: 10.96.0.10, ports: [{port: 9080}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ratings, namespace: shop}
        spec: {clusterIP: 10.96.0.11, ports: [{port: 9080}]}
        """

    static let destinationRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: shop}
        spec:
          host: reviews
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """

    /// A VirtualService in `vs.yaml` whose first rule starts on line 7; `rule` continues with 4-space
    /// indentation.
    static func virtualService(rule: String, apiVersion: String = "networking.istio.io/v1") -> String {
        let body = rule.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset == 0 ? "  - " + $0.element : "    " + $0.element }.joined(separator: "\n")
        return """
            apiVersion: \(apiVersion)
            kind: VirtualService
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews]
              http:
            \(body)
            """
    }

    static func loadAll(_ vs: String, dr: String = destinationRule) -> ManifestLoadResult {
        ManifestLoader.load(sources: [("svc.yaml", services), ("dr.yaml", dr), ("vs.yaml", vs)])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var rule: String
        /// `file:line: field: message` prefixes of the errors, in order.
        var errors: [String]
        var testDescription: String { errors.first ?? rule }
    }

    static let cases: [Case] = [
        Case(
            rule: "match: [{uri: {regex: \"/a(\"}}]\nroute: [{destination: {host: reviews}}]",
            errors: ["vs.yaml:7: VirtualService/shop/reviews: spec.http[0].match[0].uri.regex: invalid regular expression \"/a(\""]),
        Case(
            rule: """
                match:
                - headers: {x-user: {regex: "[a-"}}
                route: [{destination: {host: reviews}}]
                """,
            errors: ["vs.yaml:8: VirtualService/shop/reviews: spec.http[0].match[0].headers.x-user.regex: invalid regular expression"]),
        Case(
            rule: """
                route:
                - destination: {host: reviews, subset: v1}
                  weight: 60
                - destination: {host: reviews, subset: v2}
                  weight: 30
                """,
            errors: [
                "vs.yaml:7: VirtualService/shop/reviews: spec.http[0].route: the weights of 2 destinations sum to 90 (60, 30); they must sum to 100"
            ]),
        Case(
            rule: """
                route:
                - destination: {host: reviews, subset: v1}
                  weight: 110
                - destination: {host: reviews, subset: v2}
                  weight: -10
                """,
            errors: [
                "vs.yaml:7: VirtualService/shop/reviews: spec.http[0].route: the weights of 2 destinations sum to 110 (110, -10)",
                "vs.yaml:11: VirtualService/shop/reviews: spec.http[0].route[1].weight: must not be negative, got -10",
            ]),
        Case(
            rule: "route: [{destination: {host: reviews}}]\ntimeout: -1s",
            errors: ["vs.yaml:8: VirtualService/shop/reviews: spec.http[0].timeout: \"-1s\" is not a duration (such as 100ms, 1.5s or 1h30m): it must not be negative"]),
        Case(
            rule: "route: [{destination: {host: reviews}}]\ntimeout: 9000h",
            errors: ["vs.yaml:8: VirtualService/shop/reviews: spec.http[0].timeout: \"9000h\" is not a duration (such as 100ms, 1.5s or 1h30m): it is longer than one year"]),
        Case(
            rule: "route: [{destination: {host: reviews}}]\ntimeout: 99999999999h",
            errors: ["vs.yaml:8: VirtualService/shop/reviews: spec.http[0].timeout: \"99999999999h\" is not a duration (such as 100ms, 1.5s or 1h30m): it is longer than one year"]),
        Case(
            rule: "route: [{destination: {host: reviews}}]\ntimeout: 10",
            errors: ["vs.yaml:8: VirtualService/shop/reviews: spec.http[0].timeout: must be a string, got integer 10"]),
        Case(
            rule: """
                route: [{destination: {host: reviews}}]
                retries:
                  attempts: 3
                  perTryTimeout: 0s
                  retryOn: 5xx,sometimes
                """,
            errors: [
                "vs.yaml:10: VirtualService/shop/reviews: spec.http[0].retries.perTryTimeout: must be at least 1ms",
                "vs.yaml:11: VirtualService/shop/reviews: spec.http[0].retries.retryOn: unknown retryOn condition \"sometimes\"",
            ]),
        Case(
            rule: """
                route: [{destination: {host: reviews}}]
                fault:
                  delay: {fixedDelay: 1.5s, percentage: {value: 100.5}}
                  abort:
                    httpStatus: 600
                    percentage: {value: 5}
                """,
            errors: [
                "vs.yaml:9: VirtualService/shop/reviews: spec.http[0].fault.delay.percentage.value: percentage 100.5 is not between 0 and 100",
                "vs.yaml:11: VirtualService/shop/reviews: spec.http[0].fault.abort.httpStatus: 600 is not an HTTP status between 200 and 599",
            ]),
        Case(
            rule: "route: [{destination: {host: reviews}}]\nfault: {abort: {grpcStatus: SOMETIMES, percentage: {value: 5}}}",
            errors: ["vs.yaml:8: VirtualService/shop/reviews: spec.http[0].fault.abort.grpcStatus: unknown gRPC status \"SOMETIMES\""]),
        Case(
            rule: "route: [{destination: {host: reviews}}]\nmirror: {host: ratings}\nmirrorPercentage: {value: -5}",
            errors: ["vs.yaml:9: VirtualService/shop/reviews: spec.http[0].mirrorPercentage.value: percentage -5.0 is not between 0 and 100"]),
    ]

    static let brokenSubsets: [Case] = [
        Case(
            rule: "route: [{destination: {host: reviews, subset: v3}}]",
            errors: ["vs.yaml:7: VirtualService/shop/reviews: spec.http[0].route[0].destination.subset: error (the configuration still loads; the requests affected fail): subset v3 is not defined by DestinationRule shop/reviews for host reviews.shop.svc.cluster.local (its subsets: v1, v2)"]),
        Case(
            rule: "route: [{destination: {host: ratings, subset: v1}}]",
            errors: ["vs.yaml:7: VirtualService/shop/reviews: spec.http[0].route[0].destination.subset: error (the configuration still loads; the requests affected fail): subset v1 is not defined: no DestinationRule for host ratings.shop.svc.cluster.local"]),
    ]

    @Test("an undefined subset fails weft check but the configuration loads (503 NR at run time)", arguments: brokenSubsets)
    func brokenSubset(_ test: Case) {
        let result = Self.loadAll(Self.virtualService(rule: test.rule))
        #expect(!result.hasErrors, "\(result.errors)")
        let printed = result.brokenReferences.map(\.description)
        #expect(printed.count == test.errors.count, "\(printed)")
        for (line, expected) in zip(printed, test.errors) {
            #expect(line.hasPrefix(expected), "\(line)")
        }
        #expect(result.diagnostics.contains { $0.failsCheck })
        #expect(result.traffic?.virtualServiceTable(namespace: "shop", service: "reviews") != nil)
    }

    @Test("load errors at file:line with the field path", arguments: cases)
    func loadErrors(_ test: Case) {
        let result = Self.loadAll(Self.virtualService(rule: test.rule))
        let printed = result.errors.map(\.description)
        #expect(printed.count == test.errors.count, "\(printed)")
        for (line, expected) in zip(printed, test.errors) {
            #expect(line.hasPrefix(expected), "\(line)")
        }
        #expect(result.traffic == nil)
    }

    @Test("a valid VirtualService loads for its Service, with its DestinationRule")
    func validLoad() throws {
        let vs = Self.virtualService(
            rule: """
                match: [{headers: {end-user: {exact: jason}}}]
                route: [{destination: {host: reviews, subset: v2}}]
                timeout: 1.5s
                """, apiVersion: "networking.istio.io/v1beta1")
            + "\n  - route: [{destination: {host: reviews.shop.svc.cluster.local, subset: v1}}]"
        let result = Self.loadAll(vs)
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let traffic = try #require(result.traffic)
        let table = try #require(traffic.virtualServiceTable(namespace: "shop", service: "reviews"))
        let jason = table.match(RouteRequest(path: "/", headers: [.init("end-user", "jason")]))
        #expect(jason?.destination == .init(host: "reviews.shop.svc.cluster.local", subset: "v2"))
        #expect(jason?.timeout == .milliseconds(1500))
        #expect(table.match(RouteRequest(path: "/"))?.destination?.subset == "v1")
        #expect(traffic.destinationRule(forHost: "reviews.shop.svc.cluster.local")?.subsets.count == 2)
        #expect(traffic.virtualServiceTable(namespace: "shop", service: "ratings") == nil)
    }

    @Test("unknown destination host and non-mesh gateways are warnings")
    func warnings() {
        var vs = Self.virtualService(rule: "route: [{destination: {host: details}}]")
        vs = vs.replacingOccurrences(of: "  hosts: [reviews]", with: "  hosts: [reviews]\n  gateways: [shop/ingress]")
        let result = Self.loadAll(vs)
        #expect(result.printed == [
            "vs.yaml:6: VirtualService/shop/reviews: spec.gateways: warning: gateways does not include mesh, so this "
                + "VirtualService does not apply to the waypoint",
            "vs.yaml:8: VirtualService/shop/reviews: spec.http[0].route[0].destination.host: warning: host "
                + "details.shop.svc.cluster.local is not a Service or ServiceEntry in the manifests",
        ])
        #expect(result.traffic?.virtualServiceTable(namespace: "shop", service: "reviews") == nil)
    }

    @Test("an HTTPRoute on the same Service takes precedence; the VirtualService is ignored with a warning")
    func httpRoutePrecedence() {
        let route = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: shop}
            spec:
              parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
              rules: [{backendRefs: [{name: reviews, port: 9080}]}]
            """
        let result = ManifestLoader.load(sources: [
            ("svc.yaml", Self.services), ("route.yaml", route),
            ("vs.yaml", Self.virtualService(rule: "route: [{destination: {host: reviews}}]")),
        ])
        #expect(result.errors.isEmpty)
        #expect(result.warnings.map(\.description).contains {
            $0.hasPrefix("vs.yaml:5: VirtualService/shop/reviews: spec.hosts: warning: Service shop/reviews also has Gateway API routes")
        }, "\(result.printed)")
        #expect(result.traffic?.virtualServiceTable(namespace: "shop", service: "reviews") == nil)
    }

    static let drCases: [(String, String)] = [
        ("  trafficPolicy: {loadBalancer: {simple: FASTEST}}",
         "dr.yaml:6: DestinationRule/shop/reviews: spec.trafficPolicy.loadBalancer.simple: unknown value \"FASTEST\""),
        ("  trafficPolicy: {loadBalancer: {consistentHash: {maglev: {tableSize: 1000}, useSourceIp: true}}}",
         "dr.yaml:6: DestinationRule/shop/reviews: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: maglev tableSize 1000 is not a prime number"),
        ("  trafficPolicy:\n    outlierDetection:\n      interval: -5s",
         "dr.yaml:8: DestinationRule/shop/reviews: spec.trafficPolicy.outlierDetection.interval: \"-5s\" is not a duration"),
        ("  trafficPolicy:\n    outlierDetection:\n      maxEjectionPercent: 150",
         "dr.yaml:8: DestinationRule/shop/reviews: spec.trafficPolicy.outlierDetection.maxEjectionPercent: must be an integer between 0 and 100"),
        ("  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 70000}",
         "dr.yaml:8: DestinationRule/shop/reviews: spec.trafficPolicy.portLevelSettings[0].port.number: must be an integer between 1 and 65535"),
        ("  subsets: [{name: v1}, {name: v1}]",
         "dr.yaml:6: DestinationRule/shop/reviews: spec.subsets[1].name: subset v1 is defined twice"),
    ]

    @Test("DestinationRule errors at file:line with the field path", arguments: drCases)
    func destinationRuleErrors(_ body: String, _ expected: String) {
        let dr = """
            apiVersion: networking.istio.io/v1alpha3
            kind: DestinationRule
            metadata: {name: reviews, namespace: shop}
            spec:
              host: reviews
            """.replacingOccurrences(of: "  host: reviews", with: "  host: reviews\n" + body)
            .replacingOccurrences(of: "spec:\n  host: reviews\n", with: "spec:\n  host: reviews\n")
        let result = ManifestLoader.load(sources: [("svc.yaml", Self.services), ("dr.yaml", dr)])
        let printed = result.errors.map(\.description)
        #expect(printed.count == 1 && printed[0].hasPrefix(expected), "\(printed)")
    }
}
