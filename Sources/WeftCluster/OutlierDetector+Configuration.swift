// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

extension OutlierDetector {
    /// `outlierDetection` with every default applied and every value brought into range.
    public struct Configuration: Hashable, Sendable {
        /// Consecutive 5xx (or local failures) that eject; 0 disables. Default 5.
        public var consecutive5xxErrors: Int
        /// Consecutive 502/503/504 (or local failures) that eject; 0 disables. Default 0.
        public var consecutiveGatewayErrors: Int
        /// The sweep period; here only the unit of ejection-count decay. Default 10 s, at least 1 ms.
        public var interval: Duration
        /// One ejection's length, multiplied by the ejection count. Default 30 s.
        public var baseEjectionTime: Duration
        /// The longest ejection: Envoy's `max_ejection_time` default, max(300 s, `baseEjectionTime`).
        public var maxEjectionTime: Duration
        /// The share of endpoints that may be ejected at once, 0–100. Default 10; one endpoint can
        /// always be ejected.
        public var maxEjectionPercent: Int
        /// Below this share of non-ejected endpoints ejections are ignored (panic), 0–100. Default 0.
        public var minHealthPercent: Int

        /// Resolves `settings` with Istio's defaults.
        public init(_ settings: OutlierDetectionSettings) {
            consecutive5xxErrors = max(0, settings.consecutive5xxErrors ?? 5)
            consecutiveGatewayErrors = max(0, settings.consecutiveGatewayErrors ?? 0)
            interval = max(.milliseconds(1), settings.interval ?? .seconds(10))
            baseEjectionTime = max(.zero, settings.baseEjectionTime ?? .seconds(30))
            maxEjectionTime = max(.seconds(300), baseEjectionTime)
            maxEjectionPercent = min(100, max(0, settings.maxEjectionPercent ?? 10))
            minHealthPercent = min(100, max(0, settings.minHealthPercent ?? 0))
        }

        /// Whether any consecutive-error threshold is enabled.
        public var isEnabled: Bool { consecutive5xxErrors > 0 || consecutiveGatewayErrors > 0 }

        /// How long ejection number `count` (1-based) lasts: `baseEjectionTime × count`, capped.
        public func ejectionTime(count: Int) -> Duration {
            let capNanoseconds = maxEjectionTime.nonNegativeNanoseconds
            let base = baseEjectionTime.nonNegativeNanoseconds
            let (product, overflow) = base.multipliedReportingOverflow(by: UInt64(max(1, count)))
            return .nanoseconds(Int64(overflow ? capNanoseconds : min(product, capNanoseconds)))
        }
    }

    /// One endpoint's detector state, for a config dump.
    public struct EndpointSnapshot: Hashable, Sendable {
        /// The endpoint identity.
        public var endpoint: String
        /// Consecutive 5xx responses and local failures since the last success or ejection.
        public var consecutive5xx: Int
        /// Consecutive gateway errors (502/503/504, local failures) since the last other result.
        public var consecutiveGatewayErrors: Int
        /// The ejection multiplier after decay: how many times the endpoint has been ejected lately.
        public var ejectionCount: Int
        /// When the current ejection ends; `nil` when the endpoint is not ejected.
        public var ejectedUntil: ContinuousClock.Instant?

        /// Creates a snapshot (for tests and fakes; ``OutlierDetector/snapshot(now:)`` builds the real ones).
        public init(
            endpoint: String,
            consecutive5xx: Int,
            consecutiveGatewayErrors: Int,
            ejectionCount: Int,
            ejectedUntil: ContinuousClock.Instant?
        ) {
            self.endpoint = endpoint
            self.consecutive5xx = consecutive5xx
            self.consecutiveGatewayErrors = consecutiveGatewayErrors
            self.ejectionCount = ejectionCount
            self.ejectedUntil = ejectedUntil
        }
    }

    /// The mutable state of one endpoint.
    struct EndpointState: Hashable, Sendable {
        var consecutive5xx = 0
        var consecutiveGatewayErrors = 0
        /// The ejection multiplier, before decay since `decayedThrough`.
        var ejectionCount = 0
        /// The end of the latest ejection.
        var ejectedUntil: ContinuousClock.Instant?
        /// Decay has been applied for the intervals up to this instant; `nil` means from `ejectedUntil`.
        var decayedThrough: ContinuousClock.Instant?

        func isEjected(now: ContinuousClock.Instant) -> Bool {
            ejectedUntil.map { now < $0 } ?? false
        }

        /// This state with one ejection forgiven per full `interval` spent not ejected since the latest
        /// ejection ended (or since the last decay step).
        func decayed(now: ContinuousClock.Instant, interval: Duration) -> EndpointState {
            guard ejectionCount > 0, let until = ejectedUntil, now >= until else { return self }
            let anchor = decayedThrough ?? until
            let periods = max(0, (now - anchor).wholeNanoseconds) / max(1, interval.wholeNanoseconds)
            guard periods > 0 else { return self }
            var copy = self
            copy.ejectionCount -= Int(min(periods, Int64(ejectionCount)))
            copy.decayedThrough = anchor + interval * periods
            return copy
        }
    }
}
