// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The labels the node puts on its TCP metrics: Istio's standard set, plus or minus what the operator asked
/// for (`--metric-labels +destination_port,-source_cluster`). ztunnel hard-codes its set (istio/ztunnel#1600).
public struct TrafficLabelSet: Sendable, Equatable {
    /// The labels, in exposition order.
    public let labels: [TrafficLabel]

    /// Istio's standard set.
    public static let standard = TrafficLabelSet(labels: TrafficLabel.standard)

    init(labels: [TrafficLabel]) {
        self.labels = labels
    }

    /// A label-set change the operator asked for, refused with the reason and the names that are allowed.
    public struct SpecError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Parses `+name` (add an optional label) and `-name` (drop a standard label) items, separated by commas.
    /// An empty spec is the standard set.
    public init(spec: String) throws(SpecError) {
        var labels = TrafficLabel.standard
        for rawItem in spec.split(separator: ",") {
            let item = rawItem.trimmingSpaces
            guard let sign = item.first, sign == "+" || sign == "-" else {
                throw SpecError(
                    description: "metric label change '\(item)' must start with '+' (add) or '-' (drop), e.g. "
                        + "'+destination_port,-source_cluster'"
                )
            }
            let name = String(item.dropFirst())
            guard let label = TrafficLabel(rawValue: name) else {
                throw SpecError(
                    description: "unknown metric label '\(name)'; labels that can be added: "
                        + TrafficLabel.optional.map(\.rawValue).joined(separator: ", ")
                        + "; labels that can be dropped: the standard Istio labels ("
                        + TrafficLabel.standard.map(\.rawValue).joined(separator: ", ") + ")"
                )
            }
            if sign == "+" {
                guard TrafficLabel.optional.contains(label) else {
                    throw SpecError(description: "metric label '\(name)' is already in the standard set; only "
                        + TrafficLabel.optional.map(\.rawValue).joined(separator: ", ") + " can be added")
                }
                if !labels.contains(label) { labels.append(label) }
            } else {
                guard labels.contains(label) else {
                    throw SpecError(description: "metric label '\(name)' is not in the set, so it cannot be dropped")
                }
                labels.removeAll { $0 == label }
            }
        }
        self.labels = labels
    }

    /// The label values of `report`, in `labels` order.
    public func values(for report: ConnectionReport) -> [String] {
        labels.map { $0.value(in: report) }
    }

    /// Name/value pairs for the Prometheus registry.
    public func pairs(values: [String]) -> [(String, String)] {
        zip(labels, values).map { ($0.rawValue, $1) }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
