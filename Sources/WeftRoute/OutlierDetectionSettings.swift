// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// DestinationRule `outlierDetection`: passive health checking. Unset fields take the defaults listed
/// on each property.
public struct OutlierDetectionSettings: Hashable, Sendable {
    /// `consecutive5xxErrors`; default 5, 0 disables.
    public var consecutive5xxErrors: Int?
    /// `consecutiveGatewayErrors` (502/503/504); default 0 (disabled).
    public var consecutiveGatewayErrors: Int?
    /// `interval`, the ejection sweep period; default 10s.
    public var interval: Duration?
    /// `baseEjectionTime`; default 30s, multiplied by the number of ejections.
    public var baseEjectionTime: Duration?
    /// `maxEjectionPercent`; default 10.
    public var maxEjectionPercent: Int?
    /// `minHealthPercent`; default 0.
    public var minHealthPercent: Int?

    /// Creates outlier detection settings.
    public init(
        consecutive5xxErrors: Int? = nil,
        consecutiveGatewayErrors: Int? = nil,
        interval: Duration? = nil,
        baseEjectionTime: Duration? = nil,
        maxEjectionPercent: Int? = nil,
        minHealthPercent: Int? = nil
    ) {
        self.consecutive5xxErrors = consecutive5xxErrors
        self.consecutiveGatewayErrors = consecutiveGatewayErrors
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
        self.minHealthPercent = minHealthPercent
    }
}
