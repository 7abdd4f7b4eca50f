// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Collects diagnostics during one load. A reference type so every translator appends to the same list;
/// it never leaves the synchronous ``ManifestLoader`` call that creates it.
final class DiagnosticLog {
    private(set) var diagnostics: [Diagnostic] = []

    /// Appends a diagnostic.
    func add(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    /// Appends an error.
    func error(file: String, line: Int, object: String = "-", field: String = "-", _ message: String) {
        add(Diagnostic(severity: .error, file: file, line: line, object: object, field: field, message: message))
    }

    /// Appends a broken reference (see ``Diagnostic/Severity/brokenReference``).
    func brokenReference(file: String, line: Int, object: String = "-", field: String = "-", _ message: String) {
        add(Diagnostic(severity: .brokenReference, file: file, line: line, object: object, field: field, message: message))
    }

    /// Appends a warning.
    func warning(file: String, line: Int, object: String = "-", field: String = "-", _ message: String) {
        add(Diagnostic(severity: .warning, file: file, line: line, object: object, field: field, message: message))
    }

    /// Whether any error has been recorded.
    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The diagnostics sorted by file, then line, keeping discovery order for ties.
    var sorted: [Diagnostic] {
        diagnostics.enumerated()
            .sorted { lhs, rhs in
                (lhs.element.file, lhs.element.line, lhs.offset) < (rhs.element.file, rhs.element.line, rhs.offset)
            }
            .map(\.element)
    }
}
