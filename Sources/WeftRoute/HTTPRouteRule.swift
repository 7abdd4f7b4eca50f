// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An entry of `spec.rules`: when it matches, what to do with the request.
public struct HTTPRouteRule: Hashable, Sendable {
    /// `timeouts` (Extended, standard channel). `0s` disables a timeout; on expiry the waypoint
    /// answers 504.
    public struct Timeouts: Hashable, Sendable {
        /// `request`: the whole exchange, every retry included.
        public var request: Duration?
        /// `backendRequest`: one attempt, from the first byte sent to the backend until its full
        /// response; must not exceed a non-zero ``request``.
        public var backendRequest: Duration?

        /// Creates timeouts.
        public init(request: Duration? = nil, backendRequest: Duration? = nil) {
            self.request = request
            self.backendRequest = backendRequest
        }

        /// ``request``, or `nil` when unset or `0s` (no timeout).
        public var effectiveRequest: Duration? { Self.enabled(request) }
        /// ``backendRequest``, or `nil` when unset or `0s` (no timeout).
        public var effectiveBackendRequest: Duration? { Self.enabled(backendRequest) }

        private static func enabled(_ value: Duration?) -> Duration? {
            guard let value, value > .zero else { return nil }
            return value
        }
    }

    /// `retry` (Extended, experimental channel).
    public struct Retry: Hashable, Sendable {
        /// The attempts Istio configures when `attempts` is unset.
        public static let defaultAttempts = 2

        /// `codes`: response statuses (400–599) that trigger a retry. Connection failures (reset,
        /// refused, connect timeout) are retried whenever a retry stanza exists.
        public var codes: [Int]
        /// `attempts`: the maximum number of retries of one backend request; `nil` uses
        /// ``defaultAttempts``.
        public var attempts: Int?
        /// `backoff`: the minimum wait between attempts.
        public var backoff: Duration?

        /// Creates a retry policy.
        public init(codes: [Int] = [], attempts: Int? = nil, backoff: Duration? = nil) {
            self.codes = codes
            self.attempts = attempts
            self.backoff = backoff
        }

        /// ``attempts``, or ``defaultAttempts`` when unset.
        public var effectiveAttempts: Int { attempts ?? Self.defaultAttempts }

        /// Whether a response with `status` is retried.
        public func retries(status: Int) -> Bool { codes.contains(status) }
    }

    /// `name`, if set (unique within the route).
    public var name: String?
    /// `matches`; empty means one match `PathPrefix /`.
    public var matches: [HTTPRouteMatch]
    /// `filters`, in the order they apply.
    public var filters: [HTTPRouteFilter]
    /// `backendRefs`, weighted.
    public var backendRefs: [HTTPBackendRef]
    /// `timeouts`.
    public var timeouts: Timeouts?
    /// `retry`.
    public var retry: Retry?

    /// Creates a rule.
    public init(
        name: String? = nil,
        matches: [HTTPRouteMatch] = [],
        filters: [HTTPRouteFilter] = [],
        backendRefs: [HTTPBackendRef] = [],
        timeouts: Timeouts? = nil,
        retry: Retry? = nil
    ) {
        self.name = name
        self.matches = matches
        self.filters = filters
        self.backendRefs = backendRefs
        self.timeouts = timeouts
        self.retry = retry
    }
}
