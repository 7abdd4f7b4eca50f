// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import Yams

/// Splits one source into YAML documents and translates each Kubernetes object in them, expanding
/// `List` (and typed lists such as `PodList`) as kubectl writes them.
enum DocumentTranslator {
    /// The kinds Weft reads, by API group (`""` is the core group).
    static let supportedKinds: [String: String] = [
        "Namespace": "", "Pod": "", "Service": "",
        "WorkloadEntry": "networking.istio.io", "ServiceEntry": "networking.istio.io",
        "PeerAuthentication": "security.istio.io", "AuthorizationPolicy": "security.istio.io",
        "Gateway": "gateway.networking.k8s.io", "HTTPRoute": "gateway.networking.k8s.io",
        "GRPCRoute": "gateway.networking.k8s.io",
        "VirtualService": "networking.istio.io", "DestinationRule": "networking.istio.io",
        "LocalRateLimitPolicy": LocalRateLimitPolicyTranslator.group,
    ]

    /// The apiVersion to suggest for a kind of `group`: `v1`, `<group>/v1`, or Weft's own `weft.dev/v1alpha1`.
    static func exampleAPIVersion(group: String) -> String {
        if group.isEmpty { return "v1" }
        if group == LocalRateLimitPolicyTranslator.group { return LocalRateLimitPolicyTranslator.versions[0] }
        return "\(group)/v1"
    }

    /// Translates every document of `text`. A YAML syntax error is reported at the line Yams gives, and
    /// the rest of the source is not read; the documents before it still are.
    static func translate(name: String, text: String, log: DiagnosticLog) -> [TranslatedObject] {
        var result: [TranslatedObject] = []
        do {
            let parser = try Parser(yaml: text, resolver: .default, constructor: .default, encoding: .utf8)
            while let node = try parser.nextRoot() {
                let root = YAMLField(node: node, path: "", keyLine: node.line(or: 1))
                translateDocument(root, file: name, log: log, inherited: nil, into: &result)
            }
        } catch {
            let (line, message) = describe(error, in: text)
            log.error(file: name, line: line, "\(message); fix the YAML — the rest of this file was not loaded")
        }
        return result
    }

    /// Translates one object (a document, or an item of a list document). `root.path` is empty for a
    /// document and `items[i]` for a list item; `inherited` is the kind and apiVersion a typed list gives
    /// its items.
    static func translateDocument(
        _ root: YAMLField, file: String, log: DiagnosticLog, inherited: (kind: String, apiVersion: String)?,
        into result: inout [TranslatedObject]
    ) {
        if root.node.isNull { return }
        let reader = ObjectReader(file: file, object: "-", log: log)
        guard case .mapping = root.node else {
            log.error(
                file: file, line: root.keyLine, field: root.fieldName,
                "document is \(root.node.shortDescription), not a mapping; each YAML document must be one "
                    + "Kubernetes object with apiVersion, kind and metadata")
            return
        }
        let kind = root.child("kind").flatMap(reader.string) ?? inherited?.kind
        let apiVersion = root.child("apiVersion").flatMap(reader.string) ?? inherited?.apiVersion
        if root.child("kind") == nil && inherited == nil {
            reader.missing("kind", in: root, "add the object's kind, e.g. \"kind: Pod\"")
        }
        if root.child("apiVersion") == nil && inherited == nil {
            let example = kind.flatMap { supportedKinds[$0] }.map { exampleAPIVersion(group: $0) } ?? "v1"
            reader.missing("apiVersion", in: root, "add the object's apiVersion, e.g. \"apiVersion: \(example)\"")
        }
        guard let kind, let apiVersion else { return }
        let group = apiVersion.firstIndex(of: "/").map { String(apiVersion[..<$0]) } ?? ""

        if kind == "List" || (kind.hasSuffix("List") && root.child("items") != nil) {
            guard let items = root.child("items") else { return }
            let itemDefaults = kind == "List" ? nil : (kind: String(kind.dropLast(4)), apiVersion: apiVersion)
            guard case .sequence = items.node else {
                reader.error("must be a list of objects, got \(items.node.shortDescription)", at: items)
                return
            }
            for item in items.items {
                translateDocument(item, file: file, log: log, inherited: itemDefaults, into: &result)
            }
            return
        }

        var objectRoot = root
        objectRoot.path = ""
        var objectReader = reader
        let translated: TranslatedObject?
        switch (group, kind) {
        case ("", "Namespace"): translated = namespace(objectRoot, reader: &objectReader)
        case ("", "Pod"): translated = PodTranslator.translate(objectRoot, reader: &objectReader)
        case ("", "Service"): translated = ServiceTranslator.translate(objectRoot, reader: &objectReader)
        case ("networking.istio.io", "WorkloadEntry"):
            translated = IstioTranslator.translateWorkloadEntry(objectRoot, reader: &objectReader)
        case ("networking.istio.io", "ServiceEntry"):
            translated = ServiceEntryTranslator.translate(objectRoot, reader: &objectReader)
        case ("networking.istio.io", "VirtualService"):
            translated = VirtualServiceTranslator.translate(objectRoot, apiVersion: apiVersion, reader: &objectReader)
        case ("networking.istio.io", "DestinationRule"):
            translated = DestinationRuleTranslator.translate(objectRoot, apiVersion: apiVersion, reader: &objectReader)
        case ("security.istio.io", "PeerAuthentication"):
            translated = SecurityTranslator.translatePeerAuthentication(objectRoot, reader: &objectReader)
        case ("security.istio.io", "AuthorizationPolicy"):
            translated = AuthorizationPolicyTranslator.translate(
                objectRoot, apiVersion: apiVersion, reader: &objectReader)
        case ("gateway.networking.k8s.io", "Gateway"):
            translated = GatewayTranslator.translate(objectRoot, apiVersion: apiVersion, reader: &objectReader)
        case ("gateway.networking.k8s.io", "HTTPRoute"):
            translated = HTTPRouteTranslator.translate(objectRoot, apiVersion: apiVersion, reader: &objectReader)
        case ("gateway.networking.k8s.io", "GRPCRoute"):
            translated = GRPCRouteTranslator.translate(objectRoot, apiVersion: apiVersion, reader: &objectReader)
        case (LocalRateLimitPolicyTranslator.group, LocalRateLimitPolicyTranslator.kind):
            translated = LocalRateLimitPolicyTranslator.translate(
                objectRoot, apiVersion: apiVersion, reader: &objectReader)
        default:
            warnUnknown(kind: kind, apiVersion: apiVersion, root: root, reader: reader)
            translated = nil
        }
        if let translated { result.append(translated) }
    }

    /// Translates a Namespace: its name (an RFC 1123 label) and labels.
    static func namespace(_ root: YAMLField, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: "Namespace", namespaced: false, reader: &reader)
        else { return nil }
        var origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        origin.useWaypoint = WaypointUse.read(from: root, metadata: meta, reader: reader)
        return .namespace(MeshNamespace(name: meta.name, labels: meta.labels), origin)
    }

    /// Warns that an object of a kind Weft does not read is skipped.
    static func warnUnknown(kind: String, apiVersion: String, root: YAMLField, reader: ObjectReader) {
        let metadata = root.child("metadata")
        let name = metadata?.child("name")?.node.scalarText
        let namespace = metadata?.child("namespace")?.node.scalarText
        var object = "-"
        if let name { object = namespace.map { "\(kind)/\($0)/\(name)" } ?? "\(kind)/\(name)" }
        let field = root.child("kind") ?? root
        var message = "unknown kind \(kind), skipped"
        if let group = supportedKinds[kind] {
            let expected = exampleAPIVersion(group: group)
            message = "unknown kind \(kind) in apiVersion \(apiVersion), skipped; Weft reads \(kind) from "
                + "apiVersion \(expected)"
        }
        reader.log.warning(file: reader.file, line: field.line, object: object, field: "kind", message)
    }

    /// The line and an operator-facing message for a Yams parse error.
    static func describe(_ error: any Error, in text: String) -> (line: Int, message: String) {
        guard let yamlError = error as? YamlError else { return (1, "invalid YAML: \(error)") }
        func withContext(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> (Int, String) {
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return (mark.line, message)
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return withContext(problem, context, mark)
        case .reader(let problem, let offset, _, _):
            let line = offset.map { text.prefix($0).reduce(1) { $1 == "\n" ? $0 + 1 : $0 } } ?? 1
            return (line, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return (context.mark.line, "invalid YAML: duplicate key \(keys) in a mapping (each key may appear once)")
        default:
            return (1, "invalid YAML: \(yamlError)")
        }
    }
}
