// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Translates a Kubernetes `Pod` (v1) into a ``Workload``.
///
/// Reads `metadata`, `spec.serviceAccountName` (or the deprecated `spec.serviceAccount`), `spec.nodeName`,
/// named TCP container ports, and `status.podIP` / `status.podIPs`. A pod without an IP is kept with a
/// warning. Pods on the host network (`spec.hostNetwork: true`) and finished pods (`status.phase`
/// `Succeeded` or `Failed`) are kept without addresses: the IP they show is the node's, or may already
/// belong to another pod, and neither can receive mesh traffic.
enum PodTranslator {
    static func translate(_ root: YAMLField, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: "Pod", namespaced: true, reader: &reader) else {
            return nil
        }
        let spec = reader.mapping(root, "spec")
        let status = reader.mapping(root, "status")

        var serviceAccount = "default"
        if let spec {
            let field = spec.child("serviceAccountName") ?? spec.child("serviceAccount")
            if let field, let value = reader.string(field), !value.isEmpty {
                if NameRules.isValidServiceAccount(value) {
                    serviceAccount = value
                } else {
                    reader.error(NameRules.serviceAccountMessage(value), at: field)
                }
            }
        }
        let node = spec.flatMap { reader.string($0, "nodeName") }.flatMap { $0.isEmpty ? nil : $0 }
        let hostNetwork = spec.flatMap { reader.bool($0, "hostNetwork") } ?? false
        let namedPorts = spec.map { containerPorts(of: $0, reader: reader) } ?? [:]

        var located = status.map { podAddresses(of: $0, reader: reader) } ?? []
        let phase = status.flatMap { reader.string($0, "phase") }
        let finished = phase == "Succeeded" || phase == "Failed"
        let declaresIP = status?.child("podIP") != nil || status?.child("podIPs") != nil
        if !declaresIP && !hostNetwork && !finished {
            let line = status?.keyLine ?? root.keyLine
            reader.log.warning(
                file: reader.file, line: line, object: reader.object, field: "status.podIP",
                "pod has no IP address, so it cannot receive traffic; load it with its status "
                    + "(kubectl get pod -o yaml) once it is running")
        }
        if hostNetwork || finished { located = [] }

        let workload = Workload(
            kind: .pod, name: meta.name, namespace: meta.namespace, labels: meta.labels,
            annotations: meta.annotations, serviceAccount: serviceAccount, node: node,
            addresses: located.map(\.ip), weight: 1, namedPorts: namedPorts)
        var origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        origin.useWaypoint = WaypointUse.read(from: root, metadata: meta, reader: reader)
        return .workload(workload, origin, addresses: located)
    }

    /// `status.podIP` then `status.podIPs[].ip`, without duplicates; invalid addresses are reported.
    static func podAddresses(of status: YAMLField, reader: ObjectReader) -> [LocatedAddress] {
        var result: [LocatedAddress] = []
        func add(_ field: YAMLField) {
            guard let ip = reader.ipAddress(field), !result.contains(where: { $0.ip == ip }) else { return }
            result.append(LocatedAddress(ip: ip, field: field.path, line: field.line))
        }
        if let field = status.child("podIP") { add(field) }
        for item in reader.sequence(status, "podIPs") where reader.isMapping(item) {
            if let field = item.child("ip") { add(field) }
        }
        return result
    }

    /// Named TCP ports of `spec.containers[]`, name → `containerPort`; the first container to use a name wins.
    static func containerPorts(of spec: YAMLField, reader: ObjectReader) -> [String: UInt16] {
        var result: [String: UInt16] = [:]
        for container in reader.sequence(spec, "containers") where reader.isMapping(container) {
            for port in reader.sequence(container, "ports") where reader.isMapping(port) {
                let number: UInt16?
                if let field = port.child("containerPort") {
                    number = reader.port(field)
                } else {
                    reader.missing("containerPort", in: port, "give the port number the container listens on")
                    number = nil
                }
                let name = reader.string(port, "name")
                let proto = reader.string(port, "protocol") ?? "TCP"
                guard let number, let name, !name.isEmpty, proto == "TCP", result[name] == nil else { continue }
                result[name] = number
            }
        }
        return result
    }
}
