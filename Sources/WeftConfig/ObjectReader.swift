// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import Yams

/// Reads typed values out of one Kubernetes object, reporting every type or range problem to the log
/// with the object's name, the field path and the line. Absent and null fields read as `nil`.
struct ObjectReader {
    /// The file the object is in.
    let file: String
    /// `Kind/namespace/name` once known; `-` before.
    var object: String
    /// Where diagnostics go.
    let log: DiagnosticLog

    // MARK: - Reporting

    /// Records an error about a field's value.
    func error(_ message: String, at field: YAMLField) {
        log.error(file: file, line: field.line, object: object, field: field.fieldName, message)
    }

    /// Records a warning about a field's value.
    func warning(_ message: String, at field: YAMLField) {
        log.warning(file: file, line: field.line, object: object, field: field.fieldName, message)
    }

    /// Records that a required field is missing from `parent`, at the line of the parent's key.
    func missing(_ key: String, in parent: YAMLField, _ hint: String) {
        let path = parent.childPath(key)
        log.error(file: file, line: parent.keyLine, object: object, field: path, "missing \(path); \(hint)")
    }

    /// Warns about each key of `mapping` not in `known` (it is ignored), suggesting the closest known key.
    func warnUnknownKeys(_ mapping: YAMLField, known: [String]) {
        for (key, value) in mapping.entries where !known.contains(key) {
            let lower = key.lowercased()
            let guess = known.first { $0.lowercased() == lower }
                ?? known.first { $0.lowercased().hasPrefix(lower) || lower.hasPrefix($0.lowercased()) }
            let hint = guess.map { "did you mean \($0)?" } ?? "known fields: \(known.joined(separator: ", "))"
            log.warning(
                file: file, line: value.keyLine, object: object, field: value.path,
                "unknown field \"\(key)\" is ignored; \(hint)")
        }
    }

    // MARK: - Shapes

    /// The child of `parent` for `key` when it is a mapping; reports a type error when it is something else.
    func mapping(_ parent: YAMLField, _ key: String) -> YAMLField? {
        guard let field = parent.child(key) else { return nil }
        return isMapping(field) ? field : nil
    }

    /// Whether `field` is a mapping; reports a type error when it is not.
    func isMapping(_ field: YAMLField) -> Bool {
        if case .mapping = field.node { return true }
        error("must be a mapping, got \(field.node.shortDescription)", at: field)
        return false
    }

    /// The items of the list at `parent.key`; empty when absent, with a type error when not a list.
    func sequence(_ parent: YAMLField, _ key: String) -> [YAMLField] {
        guard let field = parent.child(key) else { return [] }
        guard case .sequence = field.node else {
            error("must be a list, got \(field.node.shortDescription)", at: field)
            return []
        }
        return field.items
    }

    // MARK: - Scalars

    /// The string at `parent.key`, or `nil` when absent or of another type (reported).
    func string(_ parent: YAMLField, _ key: String) -> String? {
        parent.child(key).flatMap(string)
    }

    /// The field's value as a string; non-string scalars are reported with a hint to quote them, as
    /// Kubernetes rejects them too.
    func string(_ field: YAMLField) -> String? {
        if field.node.isStringScalar { return field.node.scalarText }
        if case .scalar(let scalar) = field.node {
            let text = scalar.string
            error("must be a string, got \(field.node.typeName) \(text); quote it: \"\(text)\"", at: field)
        } else {
            error("must be a string, got \(field.node.shortDescription)", at: field)
        }
        return nil
    }

    /// The string at `parent.key`, reporting it as missing (with `hint`) when absent or empty.
    func requiredString(_ parent: YAMLField, _ key: String, _ hint: String) -> String? {
        guard let field = parent.child(key) else {
            missing(key, in: parent, hint)
            return nil
        }
        guard let value = string(field) else { return nil }
        if value.isEmpty {
            error("must not be empty; \(hint)", at: field)
            return nil
        }
        return value
    }

    /// The integer in `range` at `parent.key`, or `nil` when absent or invalid (reported).
    func integer(_ parent: YAMLField, _ key: String, in range: ClosedRange<Int>) -> Int? {
        parent.child(key).flatMap { integer($0, in: range) }
    }

    /// The field's value as an integer in `range`; anything else is reported.
    func integer(_ field: YAMLField, in range: ClosedRange<Int>) -> Int? {
        if field.node.tagName == .int, let value = field.node.int, range.contains(value) { return value }
        let bounds = "between \(range.lowerBound) and \(range.upperBound)"
        error("must be an integer \(bounds), got \(field.node.shortDescription)", at: field)
        return nil
    }

    /// The field's value as a TCP port, 1…65535.
    func port(_ field: YAMLField) -> UInt16? {
        integer(field, in: 1...65535).map { UInt16($0) }
    }

    /// The boolean at `parent.key`, or `nil` when absent or not a boolean (reported).
    func bool(_ parent: YAMLField, _ key: String) -> Bool? {
        guard let field = parent.child(key) else { return nil }
        if field.node.tagName == .bool, let value = field.node.bool { return value }
        error("must be true or false, got \(field.node.shortDescription)", at: field)
        return nil
    }

    /// The string-to-string map at `parent.key` (labels, annotations, selectors); empty when absent.
    /// Entries whose value is not a string are reported and left out.
    func stringMap(_ parent: YAMLField, _ key: String) -> [String: String] {
        guard let field = parent.child(key) else { return [:] }
        guard case .mapping = field.node else {
            error("must be a mapping of string keys to string values, got \(field.node.shortDescription)", at: field)
            return [:]
        }
        var result: [String: String] = [:]
        for (entryKey, value) in field.entries {
            if value.node.isNull {
                result[entryKey] = ""
            } else if let text = string(value) {
                result[entryKey] = text
            }
        }
        return result
    }

    /// The field's value as an IP address. Hostnames (only IP addresses are supported) and junk are reported.
    func ipAddress(_ field: YAMLField) -> IPAddress? {
        guard let text = string(field) else { return nil }
        if let ip = IPAddress(text) { return ip }
        if Self.looksLikeHostname(text) {
            let hint = "use the workload's IPv4 or IPv6 address"
            error("\"\(text)\" is a hostname; only IP addresses are supported — \(hint)", at: field)
        } else {
            error("\"\(text)\" is not a valid IP address; use an IPv4 (10.0.0.1) or IPv6 (fd00::1) address", at: field)
        }
        return nil
    }

    /// Whether `text` could be a DNS name rather than a mistyped IP address.
    static func looksLikeHostname(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }
}
