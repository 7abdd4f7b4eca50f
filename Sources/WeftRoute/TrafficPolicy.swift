// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// DestinationRule `trafficPolicy`: load balancing, connection pool and outlier detection, with
/// per-port overrides.
public struct TrafficPolicy: Hashable, Sendable {
    /// One `portLevelSettings` entry.
    public struct PortSettings: Hashable, Sendable {
        /// `port.number`.
        public var port: UInt16
        /// The settings for that port.
        public var settings: Settings

        /// Creates port-level settings.
        public init(port: UInt16, settings: Settings) {
            self.port = port
            self.settings = settings
        }
    }

    /// The three settings that can be overridden, each as a whole: a set field replaces the inherited one.
    public struct Settings: Hashable, Sendable {
        /// `loadBalancer`.
        public var loadBalancer: LoadBalancerSettings?
        /// `connectionPool`.
        public var connectionPool: ConnectionPoolSettings?
        /// `outlierDetection`.
        public var outlierDetection: OutlierDetectionSettings?

        /// Creates settings.
        public init(
            loadBalancer: LoadBalancerSettings? = nil,
            connectionPool: ConnectionPoolSettings? = nil,
            outlierDetection: OutlierDetectionSettings? = nil
        ) {
            self.loadBalancer = loadBalancer
            self.connectionPool = connectionPool
            self.outlierDetection = outlierDetection
        }

        /// These settings with every field `other` sets replacing this one's.
        public func overridden(by other: Settings) -> Settings {
            Settings(
                loadBalancer: other.loadBalancer ?? loadBalancer,
                connectionPool: other.connectionPool ?? connectionPool,
                outlierDetection: other.outlierDetection ?? outlierDetection)
        }
    }

    /// The settings for every port.
    public var settings: Settings
    /// `portLevelSettings`.
    public var portLevelSettings: [PortSettings]

    /// Creates a traffic policy.
    public init(settings: Settings = Settings(), portLevelSettings: [PortSettings] = []) {
        self.settings = settings
        self.portLevelSettings = portLevelSettings
    }

    /// The settings for `port`: the general ones overridden by the first port-level entry for it.
    public func settings(forPort port: UInt16?) -> Settings {
        guard let port, let entry = portLevelSettings.first(where: { $0.port == port }) else { return settings }
        return settings.overridden(by: entry.settings)
    }
}
