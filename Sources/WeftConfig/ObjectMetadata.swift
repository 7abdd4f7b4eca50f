// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The parts of `metadata` Weft uses, read with validation.
struct ObjectMetadata {
    /// `metadata.name`, non-empty.
    var name: String
    /// `metadata.namespace` (default `default`); empty for cluster-scoped kinds.
    var namespace: String
    var labels: [String: String]
    var annotations: [String: String]
    /// The line of `metadata.name`, where duplicate-object errors point.
    var nameLine: Int

    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped kinds.
    func objectID(kind: String) -> String {
        namespace.isEmpty ? "\(kind)/\(name)" : "\(kind)/\(namespace)/\(name)"
    }

    /// Reads `metadata` from an object and, once the name is known, sets `reader.object`.
    ///
    /// - Returns: `nil` when there is no usable name (reported); the object cannot be identified then.
    static func read(from root: YAMLField, kind: String, namespaced: Bool, reader: inout ObjectReader) -> Self? {
        guard let metadata = root.child("metadata") else {
            reader.missing("metadata", in: root, "every \(kind) needs metadata.name")
            return nil
        }
        guard reader.isMapping(metadata) else { return nil }
        guard let name = reader.requiredString(metadata, "name", "every \(kind) needs a name") else { return nil }
        let nameLine = metadata.child("name")?.line ?? metadata.keyLine

        let namespaceField = namespaced ? metadata.child("namespace") : nil
        var namespace = namespaced ? "default" : ""
        if let field = namespaceField, field.node.isStringScalar, let value = field.node.scalarText, !value.isEmpty {
            namespace = value
        }
        var result = ObjectMetadata(name: name, namespace: namespace, labels: [:], annotations: [:], nameLine: nameLine)
        reader.object = result.objectID(kind: kind)
        if let field = namespaceField, reader.string(field) != nil, !NameRules.isRFC1123Label(namespace) {
            reader.error(NameRules.rfc1123Message(namespace, what: "namespace"), at: field)
        } else if kind == "Namespace", !NameRules.isRFC1123Label(name) {
            reader.error(NameRules.rfc1123Message(name, what: "namespace name"), at: metadata.child("name") ?? metadata)
        }
        result.labels = reader.stringMap(metadata, "labels")
        result.annotations = reader.stringMap(metadata, "annotations")
        return result
    }
}
