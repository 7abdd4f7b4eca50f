// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The line of every field of an object, by manifest path (`spec.http[0].route[1].weight`), so that
/// problems found after translation point at the right line.
struct FieldLines {
    private var lines: [String: Int] = [:]

    /// Records the lines of `root` and of everything below it.
    init(_ root: YAMLField) {
        record(root)
    }

    private mutating func record(_ field: YAMLField) {
        lines[field.path] = field.line
        for item in field.items { record(item) }
        for (_, value) in field.entries { record(value) }
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
}
