// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Translates an Istio `ServiceEntry` (`networking.istio.io`) into a ``MeshService``.
///
/// Reads `spec.hosts` (required; the first is the hostname), `spec.addresses` (IPs; CIDR ranges are
/// skipped with a warning), `spec.ports[]`, `spec.location`, `spec.resolution` (`DNS` is treated as
/// `STATIC`, with a warning), `spec.workloadSelector.labels` and the inline `spec.endpoints[]`, which become
/// WorkloadEntry-kind workloads named `<service-entry>-<index>`.
enum ServiceEntryTranslator {
    static let protocols: Set<String> = ["HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB", "MONGO", "TCP", "TLS", "UDP"]

    static func translate(_ root: YAMLField, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: "ServiceEntry", namespaced: true, reader: &reader)
        else { return nil }
        guard let spec = reader.mapping(root, "spec") else {
            if root.child("spec") == nil {
                reader.missing("spec", in: root, "a ServiceEntry needs spec.hosts")
            }
            return nil
        }
        let hosts = reader.sequence(spec, "hosts").compactMap { reader.string($0) }.filter { !$0.isEmpty }
        if hosts.isEmpty {
            let field = spec.child("hosts")
            reader.log.error(
                file: reader.file, line: field?.keyLine ?? spec.keyLine, object: reader.object, field: "spec.hosts",
                "missing spec.hosts; list at least one host name, e.g. api.example.com")
        }
        let vips = addresses(of: spec, reader: reader)
        var ports = ServicePortList()
        for item in reader.sequence(spec, "ports") where reader.isMapping(item) {
            if let port = servicePort(item, reader: reader) {
                ports.append(port, item: item, numberKey: "number", reader: reader)
            }
        }
        checkEnum(spec, "location", allowed: ["MESH_EXTERNAL", "MESH_INTERNAL"], reader: reader)
        let resolutions = ["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"]
        if let field = spec.child("resolution"),
            let value = checkEnum(spec, "resolution", allowed: resolutions, reader: reader), value.hasPrefix("DNS")
        {
            reader.warning(
                "resolution \(value) is not supported, treated as STATIC; list the endpoints' IP addresses in "
                    + "spec.endpoints", at: field)
        }
        var selector: LabelSelector?
        if let workloadSelector = reader.mapping(spec, "workloadSelector") {
            let labels = reader.stringMap(workloadSelector, "labels")
            selector = labels.isEmpty ? nil : LabelSelector(labels)
        }
        let endpoints = reader.sequence(spec, "endpoints").enumerated().compactMap { index, item in
            endpoint(item, index: index, meta: meta, reader: reader)
        }
        let service = MeshService(
            kind: .serviceEntry, name: meta.name, namespace: meta.namespace, labels: meta.labels,
            hostname: hosts.first ?? "", vips: vips.map(\.ip), ports: ports.ports, selector: selector,
            inlineEndpoints: endpoints)
        var origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        origin.useWaypoint = WaypointUse.read(from: root, metadata: meta, reader: reader)
        return .service(service, origin, vips: vips)
    }

    /// `spec.addresses`: IPs, without duplicates. CIDR ranges cannot be virtual IPs and are skipped.
    static func addresses(of spec: YAMLField, reader: ObjectReader) -> [LocatedAddress] {
        var result: [LocatedAddress] = []
        for field in reader.sequence(spec, "addresses") {
            if field.node.isStringScalar, let text = field.node.scalarText, let slash = text.firstIndex(of: "/"),
                IPAddress(text[..<slash]) != nil
            {
                reader.warning(
                    "CIDR range \(text) is not supported as a service address and is skipped; list individual IPs",
                    at: field)
                continue
            }
            guard let ip = reader.ipAddress(field), !result.contains(where: { $0.ip == ip }) else { continue }
            result.append(LocatedAddress(ip: ip, field: field.path, line: field.line))
        }
        return result
    }

    /// One entry of `spec.ports`: `number` (required), `name`, `protocol` (its lowercase form becomes the
    /// app protocol) and `targetPort`.
    static func servicePort(_ item: YAMLField, reader: ObjectReader) -> ServicePort? {
        guard ServicePortList.isTCP(item, key: "protocol", reader: reader, allowed: protocols) else { return nil }
        guard let numberField = item.child("number") else {
            reader.missing("number", in: item, "give the port clients connect to, between 1 and 65535")
            return nil
        }
        let name = reader.string(item, "name").flatMap { $0.isEmpty ? nil : $0 }
        guard let number = reader.port(numberField) else { return nil }
        var target: ServicePort.Target?
        if let field = item.child("targetPort") {
            guard let value = reader.port(field) else { return nil }
            target = .number(value)
        }
        let appProtocol = reader.string(item, "protocol")?.lowercased()
            ?? ServicePortList.inferredAppProtocol(fromName: name)
        return ServicePort(name: name, port: number, targetPort: target, appProtocol: appProtocol)
    }

    /// An inline endpoint as a WorkloadEntry-kind workload named `<service-entry>-<index>`.
    static func endpoint(_ item: YAMLField, index: Int, meta: ObjectMetadata, reader: ObjectReader) -> Workload? {
        guard reader.isMapping(item) else { return nil }
        let fields = IstioTranslator.endpointFields(item, reader: reader)
        guard let address = fields.address else { return nil }
        return Workload(
            kind: .workloadEntry, name: "\(meta.name)-\(index)", namespace: meta.namespace, labels: fields.labels,
            serviceAccount: fields.serviceAccount, addresses: [address.ip], weight: fields.weight,
            namedPorts: fields.ports)
    }

    /// Checks that `parent.key`, when present, is one of `allowed`; returns the value when it is.
    @discardableResult
    static func checkEnum(_ parent: YAMLField, _ key: String, allowed: [String], reader: ObjectReader) -> String? {
        guard let field = parent.child(key), let value = reader.string(field) else { return nil }
        guard allowed.contains(value) else {
            reader.error("unknown value \"\(value)\"; use one of \(allowed.joined(separator: ", "))", at: field)
            return nil
        }
        return value
    }
}
