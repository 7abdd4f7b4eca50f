// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// An HTTPRoute or GRPCRoute translated into WeftRoute's model, with what the assembler needs to report
/// problems found later (missing parents and backends, compile errors) at the right line and field.
struct TranslatedRoute {
    /// Which Gateway API kind the route was.
    enum Kind: String {
        case http = "HTTPRoute"
        case grpc = "GRPCRoute"
    }

    var kind: Kind
    /// The route; a GRPCRoute's method matches are path matches (``GRPCMethodMatch``).
    var spec: HTTPRouteSpec
    /// The manifest path of model paths that differ from it, relative to `spec` on the model side:
    /// `rules[0].backendRefs[1]` → `spec.rules[0].backendRefs[2]` when an invalid entry was left out.
    var manifestPaths: [String: String] = [:]
    /// The line of every field of the object, by manifest path (`spec.rules[0].matches[1].path.value`).
    var lines: [String: Int] = [:]
    /// `sectionName` of a Service parent reference (a port name) or of a Gateway parent reference (a listener
    /// name), by index in ``spec`` `parentRefs`; the assembler resolves it.
    var sectionNames: [Int: String] = [:]
    /// Whether `metadata.creationTimestamp` set ``HTTPRouteSpec/creationOrder``; otherwise the assembler
    /// orders the route after every timestamped one, in load order.
    var hasCreationTimestamp = false

    /// The manifest field for a model field relative to `spec`, as ``RouteCompileError/field`` gives it.
    func manifestPath(forModelField field: String) -> String {
        var end = field.endIndex
        while true {
            let prefix = String(field[..<end])
            if let mapped = manifestPaths[prefix] { return mapped + field[end...] }
            guard let boundary = field[..<end].lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            end = boundary
        }
        return "spec." + field
    }

    /// `message` with the model paths it mentions (`rules[0].filters[1]`, as compiler messages name other
    /// entries) replaced by their manifest paths.
    func manifestMessage(_ message: String) -> String {
        var result = ""
        var rest = Substring(message)
        while let start = rest.firstRange(of: "rules[") {
            let before = rest[..<start.lowerBound]
            if let last = before.last, last.isLetter || last.isNumber || last == "." {
                result += rest[..<start.upperBound]
                rest = rest[start.upperBound...]
                continue
            }
            result += before
            var end = start.lowerBound
            while end < rest.endIndex, Self.isPathCharacter(rest[end]) { end = rest.index(after: end) }
            var path = rest[start.lowerBound..<end]
            while path.last == "." { path = path.dropLast() }
            result += manifestPath(forModelField: String(path))
            rest = rest[path.endIndex...]
        }
        return result + rest
    }

    private static func isPathCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "_.[]".contains(character))
    }

    /// The line of `path`, or of its closest enclosing field that is written; `fallback` when none is.
    func line(of path: String, fallback: Int) -> Int {
        var end = path.endIndex
        while true {
            if let line = lines[String(path[..<end])] { return line }
            guard let boundary = path[..<end].lastIndex(where: { $0 == "." || $0 == "[" }) else { return fallback }
            end = boundary
        }
    }

    /// Records the line of `field` and of everything below it.
    mutating func recordLines(of field: YAMLField) {
        lines[field.path] = field.line
        for item in field.items { recordLines(of: item) }
        for (_, value) in field.entries { recordLines(of: value) }
    }
}
