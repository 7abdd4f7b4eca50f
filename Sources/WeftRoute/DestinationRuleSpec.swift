// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An Istio DestinationRule (`networking.istio.io`): the traffic policy of a service host and its named
/// subsets.
public struct DestinationRuleSpec: Hashable, Sendable {
    /// One `subsets` entry: endpoints selected by labels, with an optional policy of its own.
    public struct Subset: Hashable, Sendable {
        /// `name`, what a VirtualService destination's `subset` names.
        public var name: String
        /// `labels`: the endpoint label selector.
        public var labels: [String: String]
        /// `trafficPolicy`, overriding the top-level one field by field.
        public var trafficPolicy: TrafficPolicy?

        /// Creates a subset.
        public init(name: String, labels: [String: String] = [:], trafficPolicy: TrafficPolicy? = nil) {
            self.name = name
            self.labels = labels
            self.trafficPolicy = trafficPolicy
        }
    }

    /// The namespace, against which a short `host` resolves.
    public var namespace: String
    /// The name.
    public var name: String
    /// `host`, as written.
    public var host: String
    /// `trafficPolicy`.
    public var trafficPolicy: TrafficPolicy?
    /// `subsets`.
    public var subsets: [Subset]

    /// Creates a DestinationRule.
    public init(
        namespace: String, name: String, host: String, trafficPolicy: TrafficPolicy? = nil, subsets: [Subset] = []
    ) {
        self.namespace = namespace
        self.name = name
        self.host = host
        self.trafficPolicy = trafficPolicy
        self.subsets = subsets
    }

    /// `namespace/name`.
    public var key: String { "\(namespace)/\(name)" }

    /// `host` fully qualified in the DestinationRule's namespace.
    public var resolvedHost: String { VirtualServiceDestination.qualify(host, namespace: namespace) }

    /// The subset named `name`.
    public func subset(named name: String) -> Subset? { subsets.first { $0.name == name } }

    /// The settings in force for traffic to `subset` on `port`.
    ///
    /// Merging, in this order, each step's set fields (`loadBalancer`, `connectionPool`,
    /// `outlierDetection`, each as a whole) replacing the previous: the top-level policy; its
    /// `portLevelSettings` entry for `port`; the subset's policy; the subset's `portLevelSettings` entry
    /// for `port`. So a subset inherits the top-level policy and overrides what it sets, and port-level
    /// settings refine the level they belong to. An unknown subset gets the top-level settings.
    public func effectivePolicy(subset: String? = nil, port: UInt16? = nil) -> TrafficPolicy.Settings {
        var result = trafficPolicy?.settings(forPort: port) ?? TrafficPolicy.Settings()
        if let subset, let policy = self.subset(named: subset)?.trafficPolicy {
            result = result.overridden(by: policy.settings(forPort: port))
        }
        return result
    }
}
