// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Translates a Kubernetes `Service` (v1) into a ``MeshService``.
///
/// Reads `spec.clusterIP` and `spec.clusterIPs` (`None` makes the service headless: no VIP),
/// `spec.ports[]` (TCP only; UDP and SCTP ports are skipped with a warning) and `spec.selector`
/// (absent or empty means no selector). The hostname is `<name>.<namespace>.svc.cluster.local`.
enum ServiceTranslator {
    static func translate(_ root: YAMLField, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: "Service", namespaced: true, reader: &reader) else {
            return nil
        }
        let spec = reader.mapping(root, "spec")
        let vips = spec.map { clusterIPs(of: $0, reader: reader) } ?? []
        var ports = ServicePortList()
        if let spec {
            for item in reader.sequence(spec, "ports") where reader.isMapping(item) {
                if let port = servicePort(item, reader: reader) {
                    ports.append(port, item: item, numberKey: "port", reader: reader)
                }
            }
        }
        let selector = spec.map { reader.stringMap($0, "selector") } ?? [:]
        let service = MeshService(
            kind: .service, name: meta.name, namespace: meta.namespace, labels: meta.labels,
            hostname: "\(meta.name).\(meta.namespace).svc.cluster.local", vips: vips.map(\.ip),
            ports: ports.ports, selector: selector.isEmpty ? nil : LabelSelector(selector))
        var origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        origin.useWaypoint = WaypointUse.read(from: root, metadata: meta, reader: reader)
        return .service(service, origin, vips: vips)
    }

    /// `clusterIP` then `clusterIPs`, without duplicates; none when either is `None` (headless) or empty.
    static func clusterIPs(of spec: YAMLField, reader: ObjectReader) -> [LocatedAddress] {
        var fields: [YAMLField] = []
        if let field = spec.child("clusterIP") { fields.append(field) }
        fields += reader.sequence(spec, "clusterIPs")
        var result: [LocatedAddress] = []
        var headless = false
        for field in fields {
            if field.node.isStringScalar, let text = field.node.scalarText, text == "None" || text.isEmpty {
                headless = headless || text == "None"
                continue
            }
            guard let ip = reader.ipAddress(field), !result.contains(where: { $0.ip == ip }) else { continue }
            result.append(LocatedAddress(ip: ip, field: field.path, line: field.line))
        }
        return headless ? [] : result
    }

    /// One entry of `spec.ports`, or `nil` when it is invalid (reported) or not TCP (warned).
    static func servicePort(_ item: YAMLField, reader: ObjectReader) -> ServicePort? {
        guard ServicePortList.isTCP(item, key: "protocol", reader: reader, allowed: ["TCP", "UDP", "SCTP"]) else {
            return nil
        }
        guard let portField = item.child("port") else {
            reader.missing("port", in: item, "give the port clients connect to, between 1 and 65535")
            return nil
        }
        let name = reader.string(item, "name").flatMap { $0.isEmpty ? nil : $0 }
        guard let port = reader.port(portField) else { return nil }
        var target: ServicePort.Target?
        if let field = item.child("targetPort") {
            guard let value = targetPort(field, reader: reader) else { return nil }
            target = value
        }
        let appProtocol = reader.string(item, "appProtocol") ?? ServicePortList.inferredAppProtocol(fromName: name)
        return ServicePort(name: name, port: port, targetPort: target, appProtocol: appProtocol)
    }

    /// A `targetPort`: an integer port or the name of a port the endpoints declare.
    static func targetPort(_ field: YAMLField, reader: ObjectReader) -> ServicePort.Target? {
        if field.node.isStringScalar, let text = field.node.scalarText {
            if text.allSatisfy(\.isNumber) {
                reader.error(
                    "must be a port number or a port name, got \"\(text)\"; write the number without quotes",
                    at: field)
                return nil
            }
            return .named(text)
        }
        guard let number = reader.port(field) else { return nil }
        return .number(number)
    }
}
