// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// What the waypoint does with a request that matched a route: forward it to a backend, answer with a
/// redirect, or answer 500; plus the filters, mirrors, timeouts and retry policy that go with it.
///
/// A request that matches no route has no selection: the caller answers 404 (Envoy flag `NR`).
public struct RouteSelection: Hashable, Sendable {
    /// The decision.
    public enum Outcome: Hashable, Sendable {
        /// Forward to this backend (after ``RouteSelection/applyRequestFilters(to:)``).
        case forward(RouteBackend)
        /// Answer with this redirect; nothing is forwarded.
        case redirect(RedirectResponse)
        /// Answer with ``Failure/statusCode``.
        case failure(Failure)
    }

    /// Why a matched request cannot be forwarded. All of these answer 500, as Gateway API requires.
    public enum Failure: Hashable, Sendable, CustomStringConvertible {
        /// The rule has no backend with a positive weight (no `backendRefs`, or all weights 0), and no
        /// redirect.
        case noBackend
        /// The draw picked a backend the resolver rejected; only that backend's share of traffic fails.
        case invalidBackend(RouteBackend, BackendStatus.Reason)
        /// The rule (or the chosen backend) has a filter the waypoint cannot apply.
        case unsupportedFilter(type: String)

        /// 500.
        public var statusCode: Int { 500 }

        /// For access logs and `weft explain`.
        public var description: String {
            switch self {
            case .noBackend: return "no backend with a positive weight"
            case .invalidBackend(let backend, let reason): return "backend \(backend) is invalid (\(reason.rawValue))"
            case .unsupportedFilter(let type): return "filter \(type) is not supported by the waypoint"
            }
        }
    }

    /// The rule and match that selected the request.
    public var match: RouteMatch
    /// Forward, redirect or failure.
    public var outcome: Outcome
    /// The rule's filters, in order (redirect and mirror filters included; see the apply functions).
    public var ruleFilters: [HTTPRouteFilter]
    /// The chosen backend's filters, applied after the rule's.
    public var backendFilters: [HTTPRouteFilter]
    /// The backends this request is mirrored to (only when forwarding), already drawn.
    public var mirrors: [RouteBackend]
    /// The rule's timeouts.
    public var timeouts: HTTPRouteRule.Timeouts?
    /// The rule's retry policy.
    public var retry: HTTPRouteRule.Retry?

    /// Creates a selection.
    public init(
        match: RouteMatch,
        outcome: Outcome,
        ruleFilters: [HTTPRouteFilter] = [],
        backendFilters: [HTTPRouteFilter] = [],
        mirrors: [RouteBackend] = [],
        timeouts: HTTPRouteRule.Timeouts? = nil,
        retry: HTTPRouteRule.Retry? = nil
    ) {
        self.match = match
        self.outcome = outcome
        self.ruleFilters = ruleFilters
        self.backendFilters = backendFilters
        self.mirrors = mirrors
        self.timeouts = timeouts
        self.retry = retry
    }

    /// The route.
    public var route: RouteReference { match.route }
    /// The rule's index in `spec.rules`.
    public var ruleIndex: Int { match.ruleIndex }

    /// The backend to forward to, if the outcome is ``Outcome/forward(_:)``.
    public var backend: RouteBackend? {
        if case .forward(let backend) = outcome { return backend }
        return nil
    }

    /// The redirect to answer with, if any.
    public var redirect: RedirectResponse? {
        if case .redirect(let response) = outcome { return response }
        return nil
    }

    /// The status the waypoint answers itself (redirect or 500), or `nil` when it forwards.
    public var localStatusCode: Int? {
        switch outcome {
        case .forward: return nil
        case .redirect(let response): return response.statusCode
        case .failure(let failure): return failure.statusCode
        }
    }

    /// Applies the request-side filters (`RequestHeaderModifier`, `URLRewrite`) of the rule, then of the
    /// chosen backend, in their listed order. Call it only when forwarding.
    ///
    /// - Parameter request: The request to forward; its path, authority and headers are rewritten.
    public func applyRequestFilters(to request: inout RouteRequest) {
        Self.applyRequestFilters(ruleFilters, to: &request, matchedPrefix: match.matchedPathPrefix)
        Self.applyRequestFilters(backendFilters, to: &request, matchedPrefix: match.matchedPathPrefix)
    }

    /// Applies the `ResponseHeaderModifier` filters of the rule, then of the chosen backend, to the
    /// response headers returned to the client.
    ///
    /// - Parameter headers: The backend's response headers.
    public func applyResponseFilters(to headers: inout [HTTPHeaderField]) {
        for filter in ruleFilters {
            if case .responseHeaderModifier(let modifier) = filter { modifier.apply(to: &headers) }
        }
        for filter in backendFilters {
            if case .responseHeaderModifier(let modifier) = filter { modifier.apply(to: &headers) }
        }
    }

    private static func applyRequestFilters(
        _ filters: [HTTPRouteFilter],
        to request: inout RouteRequest,
        matchedPrefix: String?
    ) {
        for filter in filters {
            switch filter {
            case .requestHeaderModifier(let modifier):
                modifier.apply(to: &request.headers)
            case .urlRewrite(let rewrite):
                rewrite.apply(to: &request, matchedPrefix: matchedPrefix)
            case .responseHeaderModifier, .requestRedirect, .requestMirror, .unsupported:
                continue
            }
        }
    }
}
