// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// The HTTPRoutes attached to one Service port, compiled, and the selection of a rule and a backend for
/// each request with Gateway API's semantics.
///
/// ## Overview
/// Build one per Service port when the configuration changes (``init(parent:routes:resolveBackend:)``)
/// and share it; it is immutable and `Sendable`. Routes with problems are left out and reported in
/// ``errors``; the others still route. On the request path, ``match(_:using:)`` returns a
/// ``RouteSelection`` (forward, redirect or 500) or `nil`, which the caller answers with 404.
/// ``firstMatch(_:)`` is the deterministic half: which rule and match, without drawing a backend.
///
/// ## Semantics (Gateway API `HTTPRouteRule.matches`, GAMMA attachment)
/// A route attaches when one of its `parentRefs` is the Service (`group: ""`, `kind: Service`, the
/// namespace defaulting to the route's) and either names no port or names this port. Across every rule
/// of every attached route, the first match in this order wins, each step breaking the previous one's
/// ties:
/// 1. Route hostname: a precise hostname matching the request host beats a wildcard, a longer wildcard
///    beats a shorter one, and routes without hostnames come last. A route whose hostnames all fail to
///    match the host (port ignored, case-insensitive) is not considered.
/// 2. Path type: `Exact`, then `PathPrefix`, then `RegularExpression` (Gateway API leaves regex
///    precedence to the implementation; this is Istio's order).
/// 3. The longest path value, in characters (for prefixes, the most specific prefix).
/// 4. A `method` match beats none.
/// 5. More header matches.
/// 6. More query parameter matches.
/// 7. The oldest route (``HTTPRouteSpec/creationOrder``).
/// 8. The route first in alphabetical (byte) order of `namespace/name`.
/// 9. Within a route, the first rule, then the first match of that rule.
///
/// A rule without matches is `PathPrefix /`; a match without a path is also `PathPrefix /`, so a bare
/// header match beats a bare `PathPrefix /` by step 5. Regular expressions must match the **whole**
/// path or value, as Envoy's RE2 `safe_regex` does: `/api/v[0-9]+` does not match `/api/v1/users`. The
/// dialect is Swift `Regex` syntax (RE2's common syntax: classes, alternation, bounded repetition,
/// `(?i)`, `\d`) with Unicode-scalar semantics, as RE2 matches code points, not grapheme clusters.
///
/// ## Backends and failures
/// A rule's backends are drawn by weight (``WeightedChoice``). Weight 0 gets no traffic; no positive
/// weight gives ``RouteSelection/Failure/noBackend``; the share of a backend the resolver rejects gives
/// ``RouteSelection/Failure/invalidBackend(_:_:)``; both answer 500. A `RequestRedirect` rule answers
/// the redirect instead. Mirrors whose backend does not resolve are not configured, as Gateway API says.
///
/// ## Implementation
/// Each (hostname, rule, match) combination becomes one entry, and the entries are sorted once by the
/// order above, so matching is a scan that stops at the first entry that matches. Checks run cheapest
/// first (host, method, path, headers, query) on the request's UTF-8 bytes in place; nothing is allocated
/// unless a header is repeated or a regular expression runs. Regular expressions are compiled here.
public struct RouteTable: Sendable {
    /// The Service port the table routes for.
    public let parent: RouteParent
    /// The attached routes that compiled, oldest first (then by `namespace/name`).
    public let routes: [RouteReference]
    /// Why attached routes were left out, in route order then field order.
    public let errors: [RouteCompileError]
    /// Every (hostname, rule, match) entry in precedence order.
    let entries: [MatchEntry]

    /// Compiles the routes attached to `parent`; routes attached elsewhere are ignored.
    ///
    /// - Parameters:
    ///   - parent: The Service port.
    ///   - routes: HTTPRoutes of the snapshot, in any order (GRPCRoutes converted with
    ///     ``HTTPRouteMatch/init(grpcMethod:headers:)`` go in a table of their own).
    ///   - resolveBackend: Decides whether each backend (and mirror target) exists and may be used:
    ///     kind supported, object present, ReferenceGrant in place, protocol compatible. Called once per
    ///     backend reference at build time. By default a core Service is valid and other kinds are not.
    public init(
        parent: RouteParent,
        routes: [HTTPRouteSpec],
        resolveBackend: (RouteBackend) -> BackendStatus = BackendStatus.servicesOnly
    ) {
        let attached = routes.filter { $0.attaches(to: parent) }.sorted {
            if $0.creationOrder != $1.creationOrder { return $0.creationOrder < $1.creationOrder }
            return $0.reference.key.utf8.lexicographicallyPrecedes($1.reference.key.utf8)
        }
        var entries: [MatchEntry] = []
        var accepted: [RouteReference] = []
        var errors: [RouteCompileError] = []
        for route in attached {
            var compiler = RouteCompiler(route: route)
            let compiled = compiler.compile(resolveBackend: resolveBackend)
            if compiler.errors.isEmpty {
                entries += compiled
                accepted.append(route.reference)
            } else {
                errors += compiler.errors
            }
        }
        entries.sort { $0.precedes($1) }
        self.parent = parent
        self.routes = accepted
        self.errors = errors
        self.entries = entries
    }

    /// Whether no route is attached (every request gets 404).
    public var isEmpty: Bool { entries.isEmpty }

    /// The rule and match that answer `request`, or `nil` (404).
    public func firstMatch(_ request: RouteRequest) -> RouteMatch? {
        firstEntry(request).map(Self.routeMatch)
    }

    /// Selects the route, rule and backend for `request`.
    ///
    /// - Parameters:
    ///   - request: The request as received.
    ///   - generator: The randomness for the weighted backend draw and for each mirror's percentage.
    /// - Returns: The selection, or `nil` when no route matches (answer 404).
    public func match(_ request: RouteRequest, using generator: inout some RandomNumberGenerator) -> RouteSelection? {
        guard let entry = firstEntry(request) else { return nil }
        let rule = entry.rule
        let match = Self.routeMatch(entry)
        func answer(_ outcome: RouteSelection.Outcome) -> RouteSelection {
            RouteSelection(
                match: match,
                outcome: outcome,
                ruleFilters: rule.filters,
                timeouts: rule.timeouts,
                retry: rule.retry
            )
        }
        if let type = rule.unsupportedFilter { return answer(.failure(.unsupportedFilter(type: type))) }
        if let redirect = rule.redirect {
            let response = redirect.response(
                to: request,
                matchedPrefix: match.matchedPathPrefix,
                listenerPort: parent.port
            )
            return answer(.redirect(response))
        }
        guard let index = rule.choice.index(using: &generator) else { return answer(.failure(.noBackend)) }
        let backend = rule.backends[index]
        if case .invalid(let reason) = backend.status {
            return answer(.failure(.invalidBackend(backend.target, reason)))
        }
        if let type = backend.unsupportedFilter { return answer(.failure(.unsupportedFilter(type: type))) }
        var mirrors: [RouteBackend] = []
        for mirror in rule.mirrors where mirror.filter.isMirrored(using: &generator) {
            mirrors.append(mirror.target)
        }
        for mirror in backend.mirrors where mirror.filter.isMirrored(using: &generator) {
            mirrors.append(mirror.target)
        }
        return RouteSelection(
            match: match,
            outcome: .forward(backend.target),
            ruleFilters: rule.filters,
            backendFilters: backend.filters,
            mirrors: mirrors,
            timeouts: rule.timeouts,
            retry: rule.retry
        )
    }

    /// Selects the route, rule and backend for `request`, drawing from the kernel's randomness (`BufferedRandom`).
    public func match(_ request: RouteRequest) -> RouteSelection? {
        var generator = BufferedRandom()
        return match(request, using: &generator)
    }

    // MARK: - Scan

    @inline(__always)
    func firstEntry(_ request: RouteRequest) -> MatchEntry? {
        RequestBytes.with(request) { bytes in
            for entry in entries where entry.matches(bytes, request) { return entry }
            return nil
        }
    }

    static func routeMatch(_ entry: MatchEntry) -> RouteMatch {
        RouteMatch(
            route: entry.rule.route,
            ruleIndex: entry.rule.index,
            ruleName: entry.rule.name,
            matchIndex: entry.match.index,
            matchedPathPrefix: entry.match.matchedPrefix
        )
    }
}
