// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Translates Istio `WorkloadEntry` objects (`networking.istio.io`) into ``Workload``s, and reads the
/// workload-entry fields that a `ServiceEntry`'s inline `endpoints` share with them.
///
/// A WorkloadEntry's ``Workload/labels`` are its `spec.labels` (what selectors match), as in Istio.
enum IstioTranslator {
    /// The annotation on a WorkloadEntry naming the Weft node that runs it.
    static let nodeAnnotation = "weft.dev/node"

    /// The fields a WorkloadEntry spec and a ServiceEntry endpoint have in common.
    struct EndpointFields {
        var address: LocatedAddress?
        var labels: [String: String] = [:]
        var serviceAccount = "default"
        var weight: UInt32 = 1
        var ports: [String: UInt16] = [:]
    }

    /// Translates a WorkloadEntry. `spec.address` must be an IP address; `spec.network` is ignored.
    static func translateWorkloadEntry(_ root: YAMLField, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: "WorkloadEntry", namespaced: true, reader: &reader)
        else { return nil }
        var fields = EndpointFields()
        if let spec = reader.mapping(root, "spec") {
            fields = endpointFields(spec, reader: reader)
        } else if root.child("spec") == nil {
            reader.missing("spec", in: root, "a WorkloadEntry needs spec.address, the workload's IP address")
        }
        let node = meta.annotations[nodeAnnotation].flatMap { $0.isEmpty ? nil : $0 }
        let located = fields.address.map { [$0] } ?? []
        let workload = Workload(
            kind: .workloadEntry, name: meta.name, namespace: meta.namespace, labels: fields.labels,
            annotations: meta.annotations, serviceAccount: fields.serviceAccount, node: node,
            addresses: located.map(\.ip), weight: fields.weight, namedPorts: fields.ports)
        var origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        origin.useWaypoint = waypointUse(root, meta: meta, specLabels: fields.labels, reader: reader)
        return .workload(workload, origin, addresses: located)
    }

    /// The WorkloadEntry's `istio.io/use-waypoint`: from `metadata.labels`, as istiod reads it, or else
    /// from `spec.labels` (the workload's labels).
    static func waypointUse(
        _ root: YAMLField, meta: ObjectMetadata, specLabels: [String: String], reader: ObjectReader
    ) -> WaypointUse? {
        let key = Waypoint.Labels.useWaypoint
        if meta.labels[key] != nil || specLabels[key] == nil {
            return WaypointUse.read(from: root, metadata: meta, reader: reader)
        }
        return WaypointUse.read(
            labels: specLabels, labelsField: root.child("spec")?.child("labels"), ownNamespace: meta.namespace,
            reader: reader)
    }

    /// Reads `address` (required, an IP), `labels`, `serviceAccount` (default `default`), `weight`
    /// (default 1; 0 also means 1, as in Istio) and `ports` (name → port number).
    static func endpointFields(_ spec: YAMLField, reader: ObjectReader) -> EndpointFields {
        var result = EndpointFields()
        if let field = spec.child("address") {
            if let ip = reader.ipAddress(field) {
                result.address = LocatedAddress(ip: ip, field: field.path, line: field.line)
            }
        } else {
            reader.missing("address", in: spec, "give the workload's IP address")
        }
        result.labels = reader.stringMap(spec, "labels")
        if let field = spec.child("serviceAccount"), let value = reader.string(field), !value.isEmpty {
            if NameRules.isValidServiceAccount(value) {
                result.serviceAccount = value
            } else {
                reader.error(NameRules.serviceAccountMessage(value), at: field)
            }
        }
        if let weight = reader.integer(spec, "weight", in: 0...Int(UInt32.max)), weight > 0 {
            result.weight = UInt32(weight)
        }
        if let ports = spec.child("ports"), reader.isMapping(ports) {
            for (name, field) in ports.entries {
                if let port = reader.port(field) { result.ports[name] = port }
            }
        }
        return result
    }
}
