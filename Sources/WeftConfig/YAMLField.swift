// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Yams

/// A node inside a Kubernetes object, with its dotted field path and the line of the key (or list item)
/// that introduced it, so diagnostics can point at the right place.
struct YAMLField {
    /// The node itself.
    var node: Node
    /// The field path inside the object, e.g. `spec.ports[1].targetPort`; empty for the object itself.
    var path: String
    /// The line of the key or list item that introduced this node (the document's first line for the root).
    var keyLine: Int

    /// The field path for diagnostics: `-` for the object itself.
    var fieldName: String { path.isEmpty ? "-" : path }

    /// The line to report for a problem with this node's value: the scalar itself, or the key of a collection.
    var line: Int {
        if case .scalar = node { return node.line(or: keyLine) }
        return keyLine
    }

    /// The path of a child field: `path.key`, or `path["key"]` when the key has dots, slashes or spaces
    /// (label keys such as `app.kubernetes.io/name`).
    func childPath(_ key: String) -> String {
        let simple = !key.isEmpty
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        if !simple { return "\(path)[\"\(key)\"]" }
        return path.isEmpty ? key : "\(path).\(key)"
    }

    /// The path of a list item: `path[index]`.
    func itemPath(_ index: Int) -> String { "\(path)[\(index)]" }

    /// The child for `key` when this node is a mapping and the value is present and not null.
    func child(_ key: String) -> YAMLField? {
        guard let (keyNode, value) = node.entry(key), !value.isNull else { return nil }
        return YAMLField(node: value, path: childPath(key), keyLine: keyNode.line(or: keyLine))
    }

    /// The items of this node when it is a sequence, each with its path and line.
    var items: [YAMLField] {
        guard case .sequence(let sequence) = node else { return [] }
        return sequence.enumerated().map { index, item in
            YAMLField(node: item, path: itemPath(index), keyLine: item.line(or: keyLine))
        }
    }

    /// The entries of this node when it is a mapping, each value with its path and its key's line.
    var entries: [(key: String, value: YAMLField)] {
        guard case .mapping(let mapping) = node else { return [] }
        return mapping.map { keyNode, value in
            let key = keyNode.scalarText ?? keyNode.shortDescription
            return (key, YAMLField(node: value, path: childPath(key), keyLine: keyNode.line(or: keyLine)))
        }
    }
}
