// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// One VirtualService compiled for the waypoint, and the selection of a rule and a destination for each
/// request with Istio's semantics.
///
/// ## Semantics
/// * **First match in list order**: rules in `http` order, and within a rule its `match` entries in
///   order (alternatives, OR); the fields inside one match all hold (AND). A rule without `match`
///   matches every request. There is no precedence sorting (unlike Gateway API's ``RouteTable``).
/// * `regex` is a **full** match on the value, as RE2 in Envoy (see ``RouteTable`` for the dialect).
///   `uri` is the path without the query string. Repeated headers are joined with `,`.
/// * Destinations are drawn by weight (share = weight / sum). One destination gets every request;
///   weight 0 gets none. Short host names resolve in the VirtualService's namespace.
/// * `retries` absent → ``RetryPolicy/istioDefault``; `retries` without `retryOn` keeps Istio's default
///   conditions. `perTryTimeout` defaults to the rule's `timeout`.
/// * Faults: the delay and the abort each apply to `percentage` % of requests (none without one). With
///   a `fault`, the selection carries no timeout and no retry policy, as Istio documents.
///
/// ## Randomness
/// ``match(_:using:)`` draws, in this order: the destination (only when two or more have a positive
/// weight), the mirror percentage, the delay percentage, the abort percentage. A percentage of 0 or
/// 100 (or an absent mirror percentage) consumes no value, so a seeded generator replays exactly.
///
/// ## Validation
/// A VirtualService with any problem compiles to an empty table with ``errors`` set (field paths inside
/// `spec`): bad regular expressions, header match names that are not lower case, a rule with neither
/// or both of `route` and `redirect`, `rewrite` with `redirect`, an empty destination host, negative
/// weights or weights of two or more destinations not summing to 100, a redirect code other than 301,
/// 302, 303, 307, 308, negative timeouts, `perTryTimeout` or `fixedDelay` under 1ms, negative
/// `attempts`, unknown `retryOn` conditions, abort `httpStatus` outside 200–599 and percentages outside
/// 0–100.
public struct VirtualServiceTable: Sendable {
    /// The VirtualService, `namespace/name`.
    public let virtualService: String
    /// Why the VirtualService was left out; empty when it compiled.
    public let errors: [TrafficConfigError]
    let rules: [CompiledVirtualServiceRule]

    /// Compiles `spec`.
    public init(_ spec: VirtualServiceSpec) {
        var compiler = VirtualServiceCompiler(spec: spec)
        let rules = compiler.compile()
        self.virtualService = spec.key
        self.errors = compiler.errors
        self.rules = compiler.errors.isEmpty ? rules : []
    }

    /// Whether no rule can match (every request gets 404).
    public var isEmpty: Bool { rules.isEmpty }

    /// Selects the rule and destination for `request`.
    ///
    /// - Parameters:
    ///   - request: The request as received.
    ///   - generator: The randomness for the weighted draw and the percentages (see the type's notes).
    /// - Returns: The selection, or `nil` when no rule matches (answer 404).
    public func match(
        _ request: RouteRequest, using generator: inout some RandomNumberGenerator
    ) -> VirtualServiceSelection? {
        guard let (rule, matchIndex, prefix) = firstMatchingRule(request) else { return nil }
        return rules[rule].select(
            request, virtualService: virtualService, matchIndex: matchIndex, prefix: prefix, using: &generator)
    }

    /// The first rule that matches, the index of its match entry and that entry's URI prefix. Not generic, so
    /// the scan is compiled for these types alone; the path without its query is cut once.
    func firstMatchingRule(_ request: RouteRequest) -> (rule: Int, match: Int?, prefix: String?)? {
        let path = request.pathWithoutQuery
        for index in rules.indices {
            if let (matchIndex, prefix) = rules[index].firstMatch(request, path: path) { return (index, matchIndex, prefix) }
        }
        return nil
    }

    /// Selects the rule and destination for `request`, drawing from the kernel's randomness (`BufferedRandom`).
    public func match(_ request: RouteRequest) -> VirtualServiceSelection? {
        var generator = BufferedRandom()
        return match(request, using: &generator)
    }

    /// Whether a request falls in `percent` % (0–100), drawing one value unless `percent` is 0 or 100.
    static func draw(_ percent: Double, using generator: inout some RandomNumberGenerator) -> Bool {
        if percent <= 0 { return false }
        if percent >= 100 { return true }
        let unit = Double(generator.next() >> 11) * 0x1p-53
        return unit * 100 < percent
    }
}

/// One compiled match entry.
struct CompiledVirtualServiceMatch: Sendable {
    var uri: CompiledStringMatch?
    var uriPrefix: String?
    var method: CompiledStringMatch?
    var headers: [(name: String, match: CompiledStringMatch?)]
    var queryParams: [(name: String, match: CompiledStringMatch?)]

    func matches(_ request: RouteRequest, path: Substring) -> Bool {
        if let method, !method.matches(request.method[...]) { return false }
        if let uri, !uri.matches(path) { return false }
        for index in headers.indices {
            guard let value = request.headers.combinedValue(named: headers[index].name) else { return false }
            if let match = headers[index].match, !match.matches(value[...]) { return false }
        }
        for index in queryParams.indices {
            guard let value = request.queryValue(named: queryParams[index].name) else { return false }
            if let match = queryParams[index].match, !match.matches(value) { return false }
        }
        return true
    }
}

/// One compiled rule. A reference: a table scan touches each rule without copying its source and matches.
final class CompiledVirtualServiceRule: Sendable {
    let index: Int
    let source: VirtualServiceRule
    let matches: [CompiledVirtualServiceMatch]
    let destinations: [VirtualServiceRule.RouteDestination]
    let choice: WeightedChoice
    let retry: RetryPolicy

    init(
        index: Int, source: VirtualServiceRule, matches: [CompiledVirtualServiceMatch],
        destinations: [VirtualServiceRule.RouteDestination], choice: WeightedChoice, retry: RetryPolicy
    ) {
        self.index = index
        self.source = source
        self.matches = matches
        self.destinations = destinations
        self.choice = choice
        self.retry = retry
    }

    /// The index of the first match that holds (`nil` for a rule without matches) and its URI prefix.
    func firstMatch(_ request: RouteRequest, path: Substring) -> (Int?, String?)? {
        if matches.isEmpty { return (nil, nil) }
        for index in matches.indices where matches[index].matches(request, path: path) {
            return (index, matches[index].uriPrefix)
        }
        return nil
    }

    func select(
        _ request: RouteRequest, virtualService: String, matchIndex: Int?, prefix: String?,
        using generator: inout some RandomNumberGenerator
    ) -> VirtualServiceSelection {
        var selection = VirtualServiceSelection(
            virtualService: virtualService, ruleIndex: index, ruleName: source.name, matchIndex: matchIndex,
            matchedURIPrefix: prefix, outcome: .abort(statusCode: 500), rewrite: source.rewrite)
        if let headers = source.headers {
            selection.requestHeaders += headers.request.map { [$0] } ?? []
            selection.responseHeaders += headers.response.map { [$0] } ?? []
        }
        if let redirect = source.redirect {
            selection.outcome = .redirect(Self.response(redirect, to: request))
        } else if let index = choice.index(using: &generator) {
            let chosen = destinations[index]
            selection.outcome = .forward(chosen.destination)
            selection.requestHeaders += chosen.headers?.request.map { [$0] } ?? []
            selection.responseHeaders += chosen.headers?.response.map { [$0] } ?? []
            if let mirror = source.mirror, VirtualServiceTable.draw(source.mirrorPercentage ?? 100, using: &generator) {
                selection.mirror = mirror
            }
        }
        if let fault = source.fault {
            if let delay = fault.delay, VirtualServiceTable.draw(delay.percentage ?? 0, using: &generator) {
                selection.delay = delay.fixedDelay
            }
            if let abort = fault.abort, VirtualServiceTable.draw(abort.percentage ?? 0, using: &generator) {
                selection.outcome = abort.grpcStatus.map { .grpcAbort(status: $0) } ?? .abort(statusCode: abort.httpStatus)
            }
        } else {
            selection.timeout = source.timeout.flatMap { $0 > .zero ? $0 : nil }
            selection.retry = retry
        }
        return selection
    }

    /// The redirect answer: the request's scheme, `authority` or the request's, `uri` or the request's
    /// path, and the request's query string unless `uri` has one.
    static func response(_ redirect: VirtualServiceRule.Redirect, to request: RouteRequest) -> RedirectResponse {
        let scheme = ASCII.lowercased(request.scheme)
        let authority = redirect.authority ?? request.authority
        var location = "\(scheme)://\(authority)" + (redirect.uri ?? String(request.pathWithoutQuery))
        if let query = request.query, redirect.uri?.contains("?") != true { location += "?" + query }
        return RedirectResponse(statusCode: redirect.redirectCode, location: location)
    }
}
