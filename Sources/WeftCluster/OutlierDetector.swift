// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// Passive health checking for a cluster's endpoints: Envoy's consecutive-5xx and
/// consecutive-gateway-failure outlier detection, with Istio's defaults.
///
/// ## Overview
/// The waypoint records the result of every request to an endpoint. A 5xx response or a local failure
/// (connect failure, reset, timeout) adds one to the endpoint's consecutive-5xx counter; anything else
/// resets it. 502, 503, 504 and local failures add one to the consecutive-gateway-error counter;
/// anything else resets it (local failures count as both, like Envoy with
/// `split_external_local_origin_errors: false`). When a counter reaches its threshold the endpoint is
/// ejected for `baseEjectionTime × ejections` (capped at max(300 s, `baseEjectionTime`)), its counters
/// reset and its ejection count grows — unless that would eject more than `maxEjectionPercent` of the
/// endpoints, in which case the counter that fired resets and nothing is ejected (Envoy's
/// `ejections_overflow`). One endpoint can always be ejected, whatever the percentage.
///
/// ## Implementation
/// There is no sweeper. An endpoint is ejected while `now < ejectedUntil`; Envoy un-ejects only at the
/// next `interval` tick after the ejection time has passed, so Weft returns endpoints up to `interval`
/// sooner. The ejection count decays lazily by the same rule Envoy applies on its ticks: each full
/// `interval` the endpoint spends not ejected after its latest ejection ended forgives one ejection.
/// Results that arrive while an endpoint is ejected (requests that were already in flight) are not
/// counted, so an endpoint comes back with clean counters.
///
/// A `nil` `outlierDetection` disables detection: nothing is counted and nothing is ever ejected.
/// Results for endpoints not in the current set (a response that outlived a reload) are ignored.
public struct OutlierDetector: Sendable {
    /// The outcome of one request, as outlier detection sees it.
    public enum Result: Hashable, Sendable {
        /// The endpoint answered with `status`.
        case response(status: Int)
        /// Connect failure, connection reset or timeout: counted as a 5xx and as a gateway error.
        case localFailure
    }

    /// What recording a result did, for logs and the `outlier_detection` stats.
    public enum Event: Hashable, Sendable {
        /// Counted; no threshold reached.
        case counted
        /// A threshold was reached and the endpoint is ejected until the given instant.
        case ejected(until: ContinuousClock.Instant)
        /// A threshold was reached but `maxEjectionPercent` endpoints are already ejected.
        case overflow
        /// Not counted: detection is off, the endpoint is unknown, or it is currently ejected.
        case ignored
    }

    /// The resolved settings; `nil` when outlier detection is off.
    public private(set) var configuration: Configuration?
    /// The endpoints tracked, in the order given.
    public private(set) var endpoints: [String]
    /// Per-endpoint state, keyed by identity.
    var states: [String: EndpointState]

    /// Creates a detector.
    ///
    /// - Parameters:
    ///   - settings: The DestinationRule `outlierDetection`; `nil` disables detection.
    ///   - endpoints: The cluster's endpoint identities; the ejection percentage is of these.
    public init(settings: OutlierDetectionSettings?, endpoints: [String] = []) {
        self.configuration = settings.map(Configuration.init)
        self.endpoints = endpoints
        self.states = Dictionary(endpoints.map { ($0, EndpointState()) }, uniquingKeysWith: { first, _ in first })
    }

    /// Records the result of a request to `endpoint` at `now`.
    @discardableResult
    public mutating func record(endpoint: String, result: Result, now: ContinuousClock.Instant) -> Event {
        guard let configuration, configuration.isEnabled, var state = states[endpoint] else { return .ignored }
        guard !state.isEjected(now: now) else { return .ignored }
        state = state.decayed(now: now, interval: configuration.interval)

        let (isServerError, isGatewayError): (Bool, Bool) =
            switch result {
            case .localFailure: (true, true)
            case .response(let status): ((500...599).contains(status), [502, 503, 504].contains(status))
            }
        state.consecutive5xx = isServerError ? state.consecutive5xx + 1 : 0
        state.consecutiveGatewayErrors = isGatewayError ? state.consecutiveGatewayErrors + 1 : 0

        let serverErrorsFired =
            configuration.consecutive5xxErrors > 0 && state.consecutive5xx >= configuration.consecutive5xxErrors
        let gatewayErrorsFired =
            configuration.consecutiveGatewayErrors > 0
            && state.consecutiveGatewayErrors >= configuration.consecutiveGatewayErrors
        guard serverErrorsFired || gatewayErrorsFired else {
            states[endpoint] = state
            return .counted
        }

        guard mayEject(now: now, maxEjectionPercent: configuration.maxEjectionPercent) else {
            if serverErrorsFired { state.consecutive5xx = 0 }
            if gatewayErrorsFired { state.consecutiveGatewayErrors = 0 }
            states[endpoint] = state
            return .overflow
        }
        state.ejectionCount += 1
        let until = now + configuration.ejectionTime(count: state.ejectionCount)
        state.ejectedUntil = until
        state.decayedThrough = nil
        state.consecutive5xx = 0
        state.consecutiveGatewayErrors = 0
        states[endpoint] = state
        return .ejected(until: until)
    }

    /// Whether `endpoint` is ejected at `now`. Always `false` when detection is off.
    public func isEjected(_ endpoint: String, now: ContinuousClock.Instant) -> Bool {
        configuration != nil && (states[endpoint]?.isEjected(now: now) ?? false)
    }

    /// How many tracked endpoints are ejected at `now`.
    public func ejectedCount(now: ContinuousClock.Instant) -> Int {
        guard configuration != nil else { return 0 }
        return states.values.reduce(0) { $0 + ($1.isEjected(now: now) ? 1 : 0) }
    }

    /// Panic mode: whether the balancer should ignore ejections and use every endpoint, because the
    /// share of non-ejected endpoints is below `minHealthPercent` (Istio maps `minHealthPercent` to
    /// Envoy's `healthy_panic_threshold`). Never with the default of 0.
    ///
    /// - Parameter endpointCount: The number of endpoints in the cluster.
    public func ignoresEjections(endpointCount: Int, now: ContinuousClock.Instant) -> Bool {
        guard let configuration, endpointCount > 0 else { return false }
        let healthy = max(0, endpointCount - ejectedCount(now: now))
        return healthy * 100 < configuration.minHealthPercent * endpointCount
    }

    /// ``ignoresEjections(endpointCount:now:)`` for the tracked endpoints.
    public func ignoresEjections(now: ContinuousClock.Instant) -> Bool {
        ignoresEjections(endpointCount: endpoints.count, now: now)
    }

    /// Applies a configuration reload: endpoints that left are forgotten, the state of those that remain
    /// (counters, ejection, ejection count) is kept, and new endpoints start clean. New settings apply
    /// from now on; an ejection in progress keeps its end time. `nil` settings clear all state.
    public mutating func update(settings: OutlierDetectionSettings?, endpoints newEndpoints: [String]) {
        configuration = settings.map(Configuration.init)
        // Turning detection off forgets everything, so turning it back on starts clean.
        let previous = configuration == nil ? [:] : states
        var kept: [String: EndpointState] = [:]
        for endpoint in newEndpoints where kept[endpoint] == nil {
            kept[endpoint] = previous[endpoint] ?? EndpointState()
        }
        states = kept
        endpoints = newEndpoints
    }

    /// The state of every tracked endpoint at `now`, in endpoint order, with decay applied.
    public func snapshot(now: ContinuousClock.Instant) -> [EndpointSnapshot] {
        let interval = configuration?.interval ?? .seconds(10)
        return endpoints.compactMap { endpoint in
            guard let state = states[endpoint]?.decayed(now: now, interval: interval) else { return nil }
            return EndpointSnapshot(
                endpoint: endpoint,
                consecutive5xx: state.consecutive5xx,
                consecutiveGatewayErrors: state.consecutiveGatewayErrors,
                ejectionCount: state.ejectionCount,
                ejectedUntil: state.isEjected(now: now) ? state.ejectedUntil : nil)
        }
    }

    /// Whether one more endpoint may be ejected: always when none is, otherwise while the ejected
    /// share including it stays within `maxEjectionPercent`.
    private func mayEject(now: ContinuousClock.Instant, maxEjectionPercent: Int) -> Bool {
        let ejected = ejectedCount(now: now)
        return ejected == 0 || (ejected + 1) * 100 <= maxEjectionPercent * max(1, endpoints.count)
    }
}
