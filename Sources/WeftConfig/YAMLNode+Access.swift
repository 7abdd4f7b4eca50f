// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Yams

/// Small, read-only conveniences on Yams nodes used by the translators.
extension Node {
    /// The 1-based line the node starts on, or `fallback` when the node has no mark.
    func line(or fallback: Int) -> Int { mark?.line ?? fallback }

    /// The node's resolved tag (`str`, `int`, `bool`, `null`, …): explicit, or implied by the scalar's text
    /// and quoting as YAML 1.1 resolves it.
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }

    /// Whether the node is a YAML null (`~`, `null`, or an empty value), which Kubernetes treats as absent.
    var isNull: Bool {
        guard case .scalar = self else { return false }
        return tagName == .null
    }

    /// Whether the node is a scalar that YAML resolves to a string (quoted, or plain text that is not a
    /// number, boolean, null or timestamp).
    var isStringScalar: Bool {
        guard case .scalar = self else { return false }
        return tagName == .str
    }

    /// The raw text of a scalar node, whatever its type.
    var scalarText: String? { scalar?.string }

    /// The value for `key` in a mapping node, with its key node; `nil` when absent or not a mapping.
    func entry(_ key: String) -> (key: Node, value: Node)? {
        guard case .mapping(let mapping) = self else { return nil }
        for (keyNode, value) in mapping where keyNode.scalar?.string == key {
            return (keyNode, value)
        }
        return nil
    }

    /// The node as an operator would read it in a message: strings quoted, numbers and booleans as
    /// written, collections by their shape.
    var shortDescription: String {
        switch self {
        case .scalar(let scalar):
            switch tagName {
            case .str: return "\"\(scalar.string)\""
            case .null: return "null"
            default: return scalar.string
            }
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// A word for the node's type, for "must be X, got Y (a Z)" messages.
    var typeName: String {
        switch self {
        case .scalar:
            switch tagName {
            case .str: return "string"
            case .int: return "integer"
            case .float: return "number"
            case .bool: return "boolean"
            case .null: return "null"
            case .timestamp: return "timestamp"
            default: return "scalar"
            }
        case .mapping: return "mapping"
        case .sequence: return "list"
        case .alias: return "alias"
        }
    }
}
