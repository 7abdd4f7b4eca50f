// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// What the waypoint does with a request that matched a VirtualService rule: forward it to a
/// destination (service host, subset, port), answer with a redirect, or answer with an injected abort;
/// plus an injected delay, the mirror, the timeout, the retry policy, the rewrite and header operations.
///
/// The counterpart of ``RouteSelection`` for Istio's API. A request that matches no rule has no
/// selection: the caller answers 404 (Envoy flag `NR`).
public struct VirtualServiceSelection: Hashable, Sendable {
    /// The decision.
    public enum Outcome: Hashable, Sendable {
        /// Forward to this destination, its host fully qualified (after ``applyRequestOperations(to:)``).
        case forward(VirtualServiceDestination)
        /// Answer with this redirect.
        case redirect(RedirectResponse)
        /// Fault injection: answer with this status (Envoy flag `FI`); nothing is forwarded.
        case abort(statusCode: Int)
        /// Fault injection for gRPC: answer HTTP 200 with this `grpc-status` and no message (flag `FI`).
        case grpcAbort(status: Int)
    }

    /// The VirtualService, `namespace/name`.
    public var virtualService: String
    /// The rule's index in `http`.
    public var ruleIndex: Int
    /// The rule's `name`.
    public var ruleName: String?
    /// The index in the rule's `match` that matched; `nil` for a rule without matches.
    public var matchIndex: Int?
    /// The `uri.prefix` that matched, used by a `rewrite.uri`.
    public var matchedURIPrefix: String?
    /// Forward, redirect or abort.
    public var outcome: Outcome
    /// Fault injection: wait this long before acting on the outcome (Envoy flag `DI`).
    public var delay: Duration?
    /// Where the request is also sent (best effort, the response not awaited), already drawn.
    public var mirror: VirtualServiceDestination?
    /// The whole-request timeout, retries included; `nil` for none (also when the rule injects faults).
    public var timeout: Duration?
    /// The retry policy; `nil` when the rule injects faults (Istio enables no retries then).
    public var retry: RetryPolicy?
    /// The rule's rewrite.
    public var rewrite: VirtualServiceRule.Rewrite?
    /// Request header operations: the rule's, then the chosen destination's.
    public var requestHeaders: [HTTPRouteFilter.HeaderModifier]
    /// Response header operations: the rule's, then the chosen destination's.
    public var responseHeaders: [HTTPRouteFilter.HeaderModifier]

    /// Creates a selection.
    public init(
        virtualService: String,
        ruleIndex: Int,
        ruleName: String? = nil,
        matchIndex: Int? = nil,
        matchedURIPrefix: String? = nil,
        outcome: Outcome,
        delay: Duration? = nil,
        mirror: VirtualServiceDestination? = nil,
        timeout: Duration? = nil,
        retry: RetryPolicy? = nil,
        rewrite: VirtualServiceRule.Rewrite? = nil,
        requestHeaders: [HTTPRouteFilter.HeaderModifier] = [],
        responseHeaders: [HTTPRouteFilter.HeaderModifier] = []
    ) {
        self.virtualService = virtualService
        self.ruleIndex = ruleIndex
        self.ruleName = ruleName
        self.matchIndex = matchIndex
        self.matchedURIPrefix = matchedURIPrefix
        self.outcome = outcome
        self.delay = delay
        self.mirror = mirror
        self.timeout = timeout
        self.retry = retry
        self.rewrite = rewrite
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }

    /// The destination, if the outcome is ``Outcome/forward(_:)``.
    public var destination: VirtualServiceDestination? {
        if case .forward(let destination) = outcome { return destination }
        return nil
    }

    /// The status the waypoint answers itself (redirect or abort), or `nil` when it forwards.
    public var localStatusCode: Int? {
        switch outcome {
        case .forward: return nil
        case .redirect(let response): return response.statusCode
        case .abort(let status): return status
        case .grpcAbort: return 200
        }
    }

    /// Applies the rewrite (path, then authority) and the request header operations. Call it only when
    /// forwarding. A `rewrite.uri` replaces the matched `uri.prefix`, or the whole path otherwise; the
    /// query string is kept.
    public func applyRequestOperations(to request: inout RouteRequest) {
        if let rewrite {
            if let uri = rewrite.uri {
                let path = request.pathWithoutQuery
                let query = request.query
                var newPath: String
                if let prefix = matchedURIPrefix, path.utf8.count >= prefix.utf8.count {
                    let rest = path.utf8.dropFirst(prefix.utf8.count)
                    newPath = uri + String(decoding: rest, as: UTF8.self)
                } else {
                    newPath = uri
                }
                if let query { newPath += "?" + query }
                request.path = newPath
            }
            if let authority = rewrite.authority { request.authority = authority }
        }
        for modifier in requestHeaders { modifier.apply(to: &request.headers) }
    }

    /// Applies the response header operations to the headers returned to the client.
    public func applyResponseOperations(to headers: inout [HTTPHeaderField]) {
        for modifier in responseHeaders { modifier.apply(to: &headers) }
    }
}
