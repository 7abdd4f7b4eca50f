// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Translates a Gateway API `Gateway` (`gateway.networking.k8s.io/v1` or `v1beta1`) into a ``Waypoint``
/// when its `spec.gatewayClassName` is `istio-waypoint`; any other Gateway is ignored with a warning.
///
/// Reads the `istio.io/waypoint-for` label (`service` by default, as istiod; another value is an error
/// naming the allowed ones) and `spec.listeners[]` (`name`, `port`, `protocol` required;
/// `allowedRoutes.namespaces`). A waypoint without the `{port: 15008, protocol: HBONE}` listener that
/// Istio's waypoints have is a warning, and so is a waypoint named `none`, which `istio.io/use-waypoint`
/// cannot name. The waypoint's workloads are resolved later, by ``SnapshotAssembler``.
enum GatewayTranslator {
    static let kind = "Gateway"
    static let versions = ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]
    static let trafficTypes = Waypoint.TrafficType.allCases.map(\.rawValue)

    static func translate(_ root: YAMLField, apiVersion: String, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: kind, namespaced: true, reader: &reader) else {
            return nil
        }
        guard RouteFieldReader.checkVersion(apiVersion, kind: kind, allowed: versions, root: root, reader: reader)
        else { return nil }
        let origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        guard let spec = reader.mapping(root, "spec") else {
            if root.child("spec") == nil {
                reader.missing("spec", in: root, "a Gateway needs spec.gatewayClassName and spec.listeners")
            }
            return nil
        }
        guard
            let className = reader.requiredString(
                spec, "gatewayClassName", "a waypoint has gatewayClassName: \(Waypoint.Labels.gatewayClassName)")
        else { return nil }
        guard className == Waypoint.Labels.gatewayClassName else {
            reader.warning(
                "gatewayClassName \(className) is not a waypoint (\(Waypoint.Labels.gatewayClassName)); Weft runs "
                    + "only waypoints, so this Gateway is ignored", at: spec.child("gatewayClassName") ?? spec)
            return .otherGateway(className: className, origin)
        }
        let location = ManifestLocation(file: reader.file, line: meta.nameLine)
        var waypoint = Waypoint(namespace: meta.namespace, name: meta.name, location: location)
        waypoint.waypointFor = trafficType(meta, root: root, reader: reader)
        if meta.name == Waypoint.Labels.none {
            reader.warning(
                "the name \"none\" is reserved: \(Waypoint.Labels.useWaypoint): none opts out of waypoints, so no "
                    + "object can use this waypoint; rename it", at: root.child("metadata")?.child("name") ?? root)
        }
        let items = reader.sequence(spec, "listeners")
        waypoint.listeners = items.compactMap { listener($0, reader: reader) }
        if waypoint.hboneListener == nil {
            let at = spec.child("listeners") ?? spec
            let declared = items.count == waypoint.listeners.count
            if declared {
                reader.log.warning(
                    file: reader.file, line: at.keyLine, object: reader.object, field: "spec.listeners",
                    "no listener with port 15008 and protocol HBONE; Istio's waypoints have "
                        + "{name: mesh, port: 15008, protocol: HBONE}, the port clients send HBONE to — add it")
            }
        }
        return .waypoint(waypoint, origin)
    }

    /// The `istio.io/waypoint-for` label; ``Waypoint/TrafficType/service`` when absent or invalid (reported).
    static func trafficType(_ meta: ObjectMetadata, root: YAMLField, reader: ObjectReader) -> Waypoint.TrafficType {
        let key = Waypoint.Labels.waypointFor
        guard let value = meta.labels[key] else { return .service }
        if let type = Waypoint.TrafficType(rawValue: value) { return type }
        let field = root.child("metadata")?.child("labels")?.child(key) ?? root
        reader.error(
            "unknown \(key) value \"\(value)\"; use one of \(trafficTypes.joined(separator: ", "))", at: field)
        return .service
    }

    /// One entry of `spec.listeners`; `nil` when invalid (reported).
    static func listener(_ item: YAMLField, reader: ObjectReader) -> Waypoint.Listener? {
        guard reader.isMapping(item) else { return nil }
        let name = reader.requiredString(item, "name", "name the listener, e.g. mesh")
        var port: UInt16?
        if let field = item.child("port") {
            port = reader.port(field)
        } else {
            reader.missing("port", in: item, "a waypoint listens on port 15008")
        }
        let proto = reader.requiredString(item, "protocol", "a waypoint's listener has protocol HBONE")
        let allowed = allowedRoutes(item, reader: reader)
        guard let name, let port, let proto, let allowed else { return nil }
        return Waypoint.Listener(name: name, port: port, protocol: proto, allowedRoutes: allowed)
    }

    /// `allowedRoutes.namespaces` (`from: Same | All | Selector`, `selector.matchLabels`); `nil` when invalid.
    static func allowedRoutes(_ item: YAMLField, reader: ObjectReader) -> Waypoint.Listener.AllowedRoutes? {
        guard let routes = reader.mapping(item, "allowedRoutes"), let namespaces = reader.mapping(routes, "namespaces")
        else { return .same }
        guard let from = ServiceEntryTranslator.checkEnum(namespaces, "from", allowed: ["All", "Same", "Selector"],
            reader: reader)
        else { return namespaces.child("from") == nil ? .same : nil }
        switch from {
        case "All": return .all
        case "Selector":
            guard let selector = reader.mapping(namespaces, "selector") else {
                if namespaces.child("selector") == nil {
                    reader.missing("selector", in: namespaces, "from: Selector needs selector.matchLabels")
                }
                return nil
            }
            if let expressions = selector.child("matchExpressions") {
                reader.error("matchExpressions is not supported; use matchLabels", at: expressions)
                return nil
            }
            let labels = reader.stringMap(selector, "matchLabels")
            if labels.isEmpty {
                reader.error("needs matchLabels naming the namespaces whose routes may attach", at: selector)
                return nil
            }
            return .selector(LabelSelector(labels))
        default: return .same
        }
    }
}
