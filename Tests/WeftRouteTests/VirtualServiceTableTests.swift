// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftRoute

/// VirtualService matching (first match in list order), selection, draws and validation.
@Suite("VirtualService table")
struct VirtualServiceTableTests {
    static func table(_ rules: [VirtualServiceRule], namespace: String = "shop") -> VirtualServiceTable {
        VirtualServiceTable(VirtualServiceSpec(namespace: namespace, name: "vs", hosts: ["reviews"], http: rules))
    }

    static func to(_ host: String, subset: String? = nil, weight: Int? = nil) -> VirtualServiceRule.RouteDestination {
        .init(VirtualServiceDestination(host: host, subset: subset), weight: weight)
    }

    static func pick(_ table: VirtualServiceTable, _ request: RouteRequest) -> (rule: Int, match: Int?)? {
        var generator = SplitMix64(seed: 1)
        return table.match(request, using: &generator).map { ($0.ruleIndex, $0.matchIndex) }
    }

    @Test("first matching rule wins in list order, not the most specific")
    func firstMatchOrder() {
        let table = Self.table([
            .init(match: [.init(uri: .prefix("/"))], route: [Self.to("a")]),
            .init(match: [.init(uri: .exact("/reviews/1"))], route: [Self.to("b")]),
        ])
        #expect(Self.pick(table, RouteRequest(path: "/reviews/1"))?.rule == 0)
    }

    @Test("matches in a rule are OR'ed in order; a rule without match matches all")
    func matchesOrdered() {
        let table = Self.table([
            .init(match: [.init(uri: .exact("/x")), .init(method: .exact("POST"))], route: [Self.to("a")]),
            .init(route: [Self.to("b")]),
        ])
        #expect(Self.pick(table, RouteRequest(method: "POST", path: "/y"))! == (0, 1))
        #expect(Self.pick(table, RouteRequest(method: "POST", path: "/x"))! == (0, 0))
        #expect(Self.pick(table, RouteRequest(path: "/y"))! == (1, nil))
        #expect(Self.table([.init(match: [.init(uri: .exact("/x"))], route: [Self.to("a")])])
            .match(RouteRequest(path: "/y")) == nil)
    }

    struct MatchCase: Sendable, CustomTestStringConvertible {
        var match: VirtualServiceMatch
        var request: RouteRequest
        var matches: Bool
        var testDescription: String
    }

    static let matchCases: [MatchCase] = [
        .init(match: .init(uri: .exact("/a")), request: .init(path: "/a?x=1"), matches: true, testDescription: "uri exact ignores query"),
        .init(match: .init(uri: .exact("/a")), request: .init(path: "/a/b"), matches: false, testDescription: "uri exact"),
        .init(match: .init(uri: .prefix("/a")), request: .init(path: "/ab"), matches: true, testDescription: "uri prefix"),
        .init(match: .init(uri: .regex("/v[0-9]+")), request: .init(path: "/v1/x"), matches: false, testDescription: "uri regex is a full match"),
        .init(match: .init(uri: .regex("/v[0-9]+(/.*)?")), request: .init(path: "/v1/x"), matches: true, testDescription: "uri regex"),
        .init(match: .init(uri: .exact("/A"), ignoreUriCase: true), request: .init(path: "/a"), matches: true, testDescription: "ignoreUriCase exact"),
        .init(match: .init(uri: .prefix("/API"), ignoreUriCase: true), request: .init(path: "/api/x"), matches: true, testDescription: "ignoreUriCase prefix"),
        .init(match: .init(method: .exact("GET")), request: .init(method: "POST", path: "/"), matches: false, testDescription: "method exact"),
        .init(match: .init(method: .regex("GET|HEAD")), request: .init(method: "HEAD", path: "/"), matches: true, testDescription: "method regex"),
        .init(match: .init(headers: [.init("x-user", .exact("jason"))]), request: .init(path: "/", headers: [.init("X-User", "jason")]), matches: true, testDescription: "header exact, name case-insensitive"),
        .init(match: .init(headers: [.init("x-user", .prefix("ja"))]), request: .init(path: "/", headers: [.init("x-user", "bob")]), matches: false, testDescription: "header prefix"),
        .init(match: .init(headers: [.init("x-user", .regex("(?i)JASON"))]), request: .init(path: "/", headers: [.init("x-user", "jason")]), matches: true, testDescription: "header regex (?i)"),
        .init(match: .init(headers: [.init("x-user", nil)]), request: .init(path: "/", headers: [.init("x-user", "")]), matches: true, testDescription: "header presence"),
        .init(match: .init(headers: [.init("x-user", nil)]), request: .init(path: "/"), matches: false, testDescription: "header absent"),
        .init(match: .init(queryParams: [.init("v", .exact("2"))]), request: .init(path: "/?a=1&v=2"), matches: true, testDescription: "query exact"),
        .init(match: .init(queryParams: [.init("v", .exact(""))]), request: .init(path: "/?v"), matches: true, testDescription: "?key matches exact empty"),
        .init(match: .init(queryParams: [.init("v", .regex("[0-9]+"))]), request: .init(path: "/?v=2a"), matches: false, testDescription: "query regex"),
        .init(match: .init(queryParams: [.init("v", .prefix("1"))]), request: .init(path: "/?v=10"), matches: true, testDescription: "query prefix"),
        .init(match: .init(uri: .prefix("/a"), method: .exact("GET")), request: .init(method: "PUT", path: "/a"), matches: false, testDescription: "fields AND"),
    ]

    @Test("every match field", arguments: matchCases)
    func matchFields(_ test: MatchCase) {
        let table = Self.table([.init(match: [test.match], route: [Self.to("a")])])
        #expect(table.errors.isEmpty)
        #expect((table.match(test.request) != nil) == test.matches)
    }

    @Test("short hosts resolve in the VirtualService's namespace; FQDNs are kept")
    func hostResolution() {
        let table = Self.table([.init(route: [Self.to("reviews", subset: "v2")]), .init(route: [Self.to("a.b.svc.cluster.local")])])
        #expect(table.match(RouteRequest(path: "/"))?.destination == .init(host: "reviews.shop.svc.cluster.local", subset: "v2"))
    }

    @Test("weights draw with a seeded generator: 20/80 split within 2%")
    func weightedDraw() {
        let table = Self.table([.init(route: [Self.to("v1", weight: 20), Self.to("v2", weight: 80)])])
        var generator = SplitMix64(seed: 42)
        var v1 = 0
        for _ in 0..<10_000 where table.match(RouteRequest(path: "/"), using: &generator)?.destination?.host.hasPrefix("v1.") == true {
            v1 += 1
        }
        #expect((1800...2200).contains(v1))
        var first = SplitMix64(seed: 7)
        var second = SplitMix64(seed: 7)
        let a = (0..<50).map { _ in table.match(RouteRequest(path: "/"), using: &first)?.destination }
        let b = (0..<50).map { _ in table.match(RouteRequest(path: "/"), using: &second)?.destination }
        #expect(a == b)
    }

    @Test("weight 0 gets nothing; one destination gets everything")
    func zeroWeight() {
        let table = Self.table([.init(route: [Self.to("v1", weight: 0), Self.to("v2", weight: 100)])])
        var generator = SplitMix64(seed: 3)
        for _ in 0..<200 {
            #expect(table.match(RouteRequest(path: "/"), using: &generator)?.destination?.host == "v2.shop.svc.cluster.local")
        }
    }

    @Test("fault percentages are drawn deterministically: delay then abort")
    func faults() {
        let fault = VirtualServiceRule.Fault(
            delay: .init(fixedDelay: .seconds(5), percentage: 50), abort: .init(httpStatus: 503, percentage: 10))
        let table = Self.table([.init(route: [Self.to("a")], timeout: .seconds(1), fault: fault)])
        var generator = SplitMix64(seed: 99)
        var delayed = 0
        var aborted = 0
        for _ in 0..<10_000 {
            let selection = table.match(RouteRequest(path: "/"), using: &generator)!
            if selection.delay == .seconds(5) { delayed += 1 }
            if selection.localStatusCode == 503 { aborted += 1 }
            #expect(selection.retry == nil && selection.timeout == nil)
        }
        #expect((4800...5200).contains(delayed))
        #expect((900...1100).contains(aborted))
        // Replaying the seed gives the same sequence: draw n is delay, draw n+1 abort.
        var manual = SplitMix64(seed: 99)
        let delayDraw = Double(manual.next() >> 11) * 0x1p-53 * 100 < 50
        let abortDraw = Double(manual.next() >> 11) * 0x1p-53 * 100 < 10
        var replay = SplitMix64(seed: 99)
        let selection = table.match(RouteRequest(path: "/"), using: &replay)!
        #expect((selection.delay != nil) == delayDraw)
        #expect((selection.localStatusCode == 503) == abortDraw)
    }

    @Test("no percentage: nothing delayed or aborted; 100 always, without drawing")
    func faultBounds() {
        let none = Self.table([.init(route: [Self.to("a")], fault: .init(abort: .init(httpStatus: 500, percentage: nil)))])
        let all = Self.table([.init(route: [Self.to("a")], fault: .init(abort: .init(httpStatus: 418, percentage: 100)))])
        var generator = SplitMix64(seed: 5)
        #expect(none.match(RouteRequest(path: "/"), using: &generator)?.localStatusCode == nil)
        #expect(all.match(RouteRequest(path: "/"), using: &generator)?.localStatusCode == 418)
        #expect(generator == SplitMix64(seed: 5))
    }

    @Test("default retry policy when retries is absent")
    func defaultRetry() {
        let selection = Self.table([.init(route: [Self.to("a")], timeout: .seconds(3))]).match(RouteRequest(path: "/"))!
        #expect(selection.retry?.attempts == 2)
        #expect(selection.retry?.conditions == [.connectFailure, .refusedStream, .unavailable, .cancelled, .retriableStatusCodes])
        #expect(selection.retry?.perTryTimeout == .seconds(3))
        #expect(selection.timeout == .seconds(3))
        #expect(RetryPolicy.istioDefault.isEnabled)
        #expect(!RetryPolicy.istioDefault.retries(status: 503))
        #expect(RetryPolicy.istioDefault.retriesWithoutResponse(connectFailure: true))
        #expect(RetryPolicy.istioDefault.retries(status: 200, grpcStatus: 14))
    }

    @Test("configured retries: attempts, perTryTimeout, retryOn; attempts 0 disables")
    func configuredRetry() {
        let retries = VirtualServiceRule.Retries(attempts: 3, perTryTimeout: .milliseconds(500), retryOn: "gateway-error,409")
        let policy = Self.table([.init(route: [Self.to("a")], retries: retries)]).match(RouteRequest(path: "/"))!.retry!
        #expect(policy == RetryPolicy(
            attempts: 3, perTryTimeout: .milliseconds(500), conditions: [.gatewayError, .retriableStatusCodes],
            retriableStatusCodes: [409]))
        #expect(policy.retries(status: 502) && policy.retries(status: 409) && !policy.retries(status: 500))
        let off = Self.table([.init(route: [Self.to("a")], retries: .init(attempts: 0))]).match(RouteRequest(path: "/"))!
        #expect(off.retry?.isEnabled == false)
    }

    struct RetryOnCase: Sendable, CustomTestStringConvertible {
        var text: String
        var conditions: Set<RetryCondition>?
        var codes: Set<Int> = []
        var testDescription: String { text }
    }

    static let retryOnCases: [RetryOnCase] = [
        .init(text: "5xx", conditions: [.fiveXX]),
        .init(text: "gateway-error,connect-failure,reset", conditions: [.gatewayError, .connectFailure, .reset]),
        .init(text: "refused-stream, retriable-4xx", conditions: [.refusedStream, .retriable4xx]),
        .init(text: "retriable-status-codes,503", conditions: [.retriableStatusCodes], codes: [503]),
        .init(text: "503,504", conditions: [.retriableStatusCodes], codes: [503, 504]),
        .init(text: "unavailable,cancelled,deadline-exceeded,resource-exhausted,internal",
              conditions: [.unavailable, .cancelled, .deadlineExceeded, .resourceExhausted, .internal]),
        .init(text: "retriable-headers,envoy-ratelimited", conditions: [.retriableHeaders, .envoyRateLimited]),
        .init(text: "5xx,bogus", conditions: nil),
        .init(text: "600", conditions: nil),
        .init(text: "5xx,,reset", conditions: nil),
        .init(text: "5XX", conditions: nil),
    ]

    @Test("retryOn parsing", arguments: retryOnCases)
    func retryOn(_ test: RetryOnCase) {
        let parsed = try? RetryPolicy.parseRetryOn(test.text)
        #expect(parsed?.conditions == test.conditions)
        if test.conditions != nil { #expect(parsed?.statusCodes == test.codes) }
    }

    @Test("redirect: 301 by default, uri and authority replace, query kept")
    func redirect() {
        let table = Self.table([.init(redirect: .init(uri: "/new", authority: "other.shop"))])
        let selection = table.match(RouteRequest(path: "/old?q=1", authority: "reviews:9080"))!
        #expect(selection.outcome == .redirect(RedirectResponse(statusCode: 301, location: "http://other.shop/new?q=1")))
    }

    @Test("rewrite replaces the matched prefix, headers apply rule then destination")
    func rewriteAndHeaders() {
        var destination = Self.to("a")
        destination.headers = .init(request: .init(set: [.init("x-dest", "1")]))
        let table = Self.table([
            .init(
                match: [.init(uri: .prefix("/api"))], route: [destination],
                rewrite: .init(uri: "/v2", authority: "backend"),
                mirror: .init(host: "shadow"), mirrorPercentage: 100,
                headers: .init(request: .init(add: [.init("x-rule", "1")]), response: .init(remove: ["server"])))
        ])
        let selection = table.match(RouteRequest(path: "/api/items?x=1", authority: "reviews"))!
        var request = RouteRequest(path: "/api/items?x=1", authority: "reviews")
        selection.applyRequestOperations(to: &request)
        #expect(request.path == "/v2/items?x=1")
        #expect(request.authority == "backend")
        #expect(request.headers == [.init("x-rule", "1"), .init("x-dest", "1")])
        var response = [HTTPHeaderField("Server", "envoy")]
        selection.applyResponseOperations(to: &response)
        #expect(response.isEmpty)
        #expect(selection.mirror?.host == "shadow.shop.svc.cluster.local")
    }

    @Test("validation errors name the field path")
    func validation() {
        let table = Self.table([
            .init(match: [.init(uri: .regex("/a("), headers: [.init("X-User", .exact("a"))])], route: [Self.to("a", weight: 50), Self.to("b", weight: -1)]),
            .init(route: [Self.to("a", weight: 30), Self.to("b", weight: 30)], retries: .init(perTryTimeout: .zero, retryOn: "sometimes")),
            .init(route: [Self.to("a")], fault: .init(delay: .init(fixedDelay: .zero, percentage: 120), abort: .init(httpStatus: 150, percentage: -1))),
            .init(redirect: .init(redirectCode: 200), rewrite: .init(uri: "/")),
            .init(),
            .init(route: [Self.to("a")], mirror: .init(host: "m"), mirrorPercentage: 101),
        ])
        #expect(table.isEmpty)
        #expect(table.errors.map(\.field) == [
            "http[0].match[0].uri.regex", "http[0].match[0].headers.X-User", "http[0].route[1].weight", "http[0].route",
            "http[1].route", "http[1].retries.perTryTimeout", "http[1].retries.retryOn",
            "http[2].fault.delay.fixedDelay", "http[2].fault.delay.percentage.value", "http[2].fault.abort.httpStatus",
            "http[2].fault.abort.percentage.value",
            "http[3].rewrite", "http[3].redirect.redirectCode",
            "http[4]",
            "http[5].mirrorPercentage.value",
        ])
    }
}
