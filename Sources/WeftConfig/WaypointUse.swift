// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// An object's `istio.io/use-waypoint` label (and `istio.io/use-waypoint-namespace`), with where it is
/// written so that a waypoint that does not exist can be reported at the label.
struct WaypointUse: Hashable {
    /// What the label asks for.
    enum Target: Hashable {
        /// `none`: opt out of the namespace's waypoint.
        case none
        /// The waypoint `namespace/name`.
        case waypoint(namespace: String, name: String)
    }

    var target: Target
    /// The line of the `istio.io/use-waypoint` label.
    var line: Int
    /// Its field path, `metadata.labels["istio.io/use-waypoint"]`.
    var field: String

    /// Reads the labels from `labelsField` (a `labels` mapping, already read into `labels`).
    ///
    /// - Parameters:
    ///   - labels: The labels as read.
    ///   - labelsField: The mapping they were read from, for lines; `nil` when absent.
    ///   - ownNamespace: The namespace a waypoint name without `istio.io/use-waypoint-namespace` is in:
    ///     the object's (a Namespace's own name).
    ///   - reader: Where problems go: an empty name, or a namespace label without a name (warnings).
    /// - Returns: `nil` when the object has no (usable) `istio.io/use-waypoint` label.
    static func read(
        labels: [String: String], labelsField: YAMLField?, ownNamespace: String, reader: ObjectReader
    ) -> WaypointUse? {
        let nameKey = Waypoint.Labels.useWaypoint
        let namespaceKey = Waypoint.Labels.useWaypointNamespace
        let nameField = labelsField?.child(nameKey)
        let namespaceField = labelsField?.child(namespaceKey)
        guard let name = labels[nameKey] else {
            if let namespaceField, labels[namespaceKey] != nil {
                reader.warning(
                    "\(namespaceKey) is ignored without \(nameKey); add \(nameKey): <waypoint name>",
                    at: namespaceField)
            }
            return nil
        }
        let line = nameField?.line ?? labelsField?.keyLine ?? 1
        let path = nameField?.path ?? "metadata.labels[\"\(nameKey)\"]"
        if name.isEmpty {
            if let nameField {
                reader.warning(
                    "empty \(nameKey) is ignored; name a waypoint Gateway, or write none to opt out of the "
                        + "namespace's waypoint", at: nameField)
            }
            return nil
        }
        if name == Waypoint.Labels.none {
            return WaypointUse(target: .none, line: line, field: path)
        }
        var namespace = ownNamespace
        if let value = labels[namespaceKey], !value.isEmpty {
            if NameRules.isRFC1123Label(value) {
                namespace = value
            } else if let namespaceField {
                reader.warning(
                    NameRules.rfc1123Message(value, what: "namespace") + "; the waypoint is looked up in "
                        + "\(ownNamespace)", at: namespaceField)
            }
        }
        return WaypointUse(target: .waypoint(namespace: namespace, name: name), line: line, field: path)
    }

    /// `namespace/name` of the named waypoint, or `none`.
    var description: String {
        switch target {
        case .none: return Waypoint.Labels.none
        case .waypoint(let namespace, let name): return "\(namespace)/\(name)"
        }
    }
}

extension WaypointUse {
    /// Reads the labels of `metadata.labels`; a cluster-scoped object (a Namespace) counts as being in
    /// the namespace it names.
    static func read(from root: YAMLField, metadata: ObjectMetadata, reader: ObjectReader) -> WaypointUse? {
        read(
            labels: metadata.labels, labelsField: root.child("metadata")?.child("labels"),
            ownNamespace: metadata.namespace.isEmpty ? metadata.name : metadata.namespace, reader: reader)
    }
}
