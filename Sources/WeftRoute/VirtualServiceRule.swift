// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Istio's `HTTPRoute` (one entry of a VirtualService's `http` list), the fields the waypoint reads.
///
/// A rule either forwards (`route`) or redirects (`redirect`); it may rewrite, time out, retry, inject
/// faults, mirror and change headers. Values are as configured; ``VirtualServiceTable`` validates them.
public struct VirtualServiceRule: Hashable, Sendable {
    /// `route[]` (`HTTPRouteDestination`): a destination, its weight and its header operations.
    public struct RouteDestination: Hashable, Sendable {
        /// `destination`.
        public var destination: VirtualServiceDestination
        /// `weight`; `nil` when not written (a single destination gets all traffic).
        public var weight: Int?
        /// `headers`, applied after the rule's when this destination is chosen.
        public var headers: HeaderOperations?

        /// Creates a weighted destination.
        public init(_ destination: VirtualServiceDestination, weight: Int? = nil, headers: HeaderOperations? = nil) {
            self.destination = destination
            self.weight = weight
            self.headers = headers
        }
    }

    /// `headers {request, response}`, each `{set, add, remove}`.
    public struct HeaderOperations: Hashable, Sendable {
        /// Operations on the request forwarded upstream.
        public var request: HTTPRouteFilter.HeaderModifier?
        /// Operations on the response returned downstream.
        public var response: HTTPRouteFilter.HeaderModifier?

        /// Creates header operations.
        public init(request: HTTPRouteFilter.HeaderModifier? = nil, response: HTTPRouteFilter.HeaderModifier? = nil) {
            self.request = request
            self.response = response
        }
    }

    /// `redirect` (`HTTPRedirect`): `uri` replaces the whole path, `authority` the host; status
    /// `redirectCode`, **301** by default (Gateway API's default is 302).
    public struct Redirect: Hashable, Sendable {
        /// `uri`; `nil` keeps the request's path.
        public var uri: String?
        /// `authority`; `nil` keeps the request's.
        public var authority: String?
        /// `redirectCode`.
        public var redirectCode: Int

        /// Creates a redirect.
        public init(uri: String? = nil, authority: String? = nil, redirectCode: Int = 301) {
            self.uri = uri
            self.authority = authority
            self.redirectCode = redirectCode
        }
    }

    /// `rewrite` (`HTTPRewrite`): the path (the matched prefix when the rule matched by `uri.prefix`) and
    /// the authority of the forwarded request.
    public struct Rewrite: Hashable, Sendable {
        /// `uri`.
        public var uri: String?
        /// `authority`.
        public var authority: String?

        /// Creates a rewrite.
        public init(uri: String? = nil, authority: String? = nil) {
            self.uri = uri
            self.authority = authority
        }
    }

    /// `retries` (`HTTPRetry`) as configured; ``RetryPolicy`` is the compiled form.
    public struct Retries: Hashable, Sendable {
        /// `attempts`: retries after the first try; 0 disables retries.
        public var attempts: Int?
        /// `perTryTimeout`; at least 1ms; default the rule's `timeout`.
        public var perTryTimeout: Duration?
        /// `retryOn`: a comma-separated list of Envoy retry conditions and status codes.
        public var retryOn: String?
        /// `backoff`: the base interval of the jittered exponential back-off (Envoy's default 25ms).
        public var backoff: Duration?

        /// Creates a retry stanza.
        public init(attempts: Int? = nil, perTryTimeout: Duration? = nil, retryOn: String? = nil, backoff: Duration? = nil) {
            self.attempts = attempts
            self.perTryTimeout = perTryTimeout
            self.retryOn = retryOn
            self.backoff = backoff
        }
    }

    /// `fault` (`HTTPFaultInjection`). Without a `percentage`, nothing is delayed or aborted.
    public struct Fault: Hashable, Sendable {
        /// `delay {fixedDelay, percentage}`.
        public struct Delay: Hashable, Sendable {
            /// `fixedDelay`, at least 1ms.
            public var fixedDelay: Duration
            /// `percentage.value`, 0–100; `nil` delays nothing.
            public var percentage: Double?

            /// Creates a delay.
            public init(fixedDelay: Duration, percentage: Double?) {
                self.fixedDelay = fixedDelay
                self.percentage = percentage
            }
        }

        /// `abort {httpStatus, percentage}`.
        public struct Abort: Hashable, Sendable {
            /// `httpStatus`, 200–599 (ignored with ``grpcStatus``).
            public var httpStatus: Int
            /// `grpcStatus` as a code (0–16): a gRPC request is answered HTTP 200 with this `grpc-status`.
            public var grpcStatus: Int?
            /// `percentage.value`, 0–100; `nil` aborts nothing.
            public var percentage: Double?

            /// Creates an abort.
            public init(httpStatus: Int, grpcStatus: Int? = nil, percentage: Double?) {
                self.httpStatus = httpStatus
                self.grpcStatus = grpcStatus
                self.percentage = percentage
            }

            /// gRPC status names as Istio's `grpcStatus` takes them, by code.
            public static let grpcStatusNames = [
                "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
            ]
        }

        /// `delay`.
        public var delay: Delay?
        /// `abort`.
        public var abort: Abort?

        /// Creates a fault injection.
        public init(delay: Delay? = nil, abort: Abort? = nil) {
            self.delay = delay
            self.abort = abort
        }
    }

    /// `name`.
    public var name: String?
    /// `match[]`; empty matches every request.
    public var match: [VirtualServiceMatch]
    /// `route[]`.
    public var route: [RouteDestination]
    /// `redirect`.
    public var redirect: Redirect?
    /// `rewrite`.
    public var rewrite: Rewrite?
    /// `timeout`: the whole request, retries included; `nil` (or zero) disables it.
    public var timeout: Duration?
    /// `retries`; `nil` gives ``RetryPolicy/istioDefault``.
    public var retries: Retries?
    /// `fault`.
    public var fault: Fault?
    /// `mirror`.
    public var mirror: VirtualServiceDestination?
    /// `mirrorPercentage.value`, 0–100; `nil` mirrors every request.
    public var mirrorPercentage: Double?
    /// `headers`.
    public var headers: HeaderOperations?

    /// Creates a rule.
    public init(
        name: String? = nil,
        match: [VirtualServiceMatch] = [],
        route: [RouteDestination] = [],
        redirect: Redirect? = nil,
        rewrite: Rewrite? = nil,
        timeout: Duration? = nil,
        retries: Retries? = nil,
        fault: Fault? = nil,
        mirror: VirtualServiceDestination? = nil,
        mirrorPercentage: Double? = nil,
        headers: HeaderOperations? = nil
    ) {
        self.name = name
        self.match = match
        self.route = route
        self.redirect = redirect
        self.rewrite = rewrite
        self.timeout = timeout
        self.retries = retries
        self.fault = fault
        self.mirror = mirror
        self.mirrorPercentage = mirrorPercentage
        self.headers = headers
    }
}
