// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// One problem found while loading manifests, located precisely enough for an operator to fix it.
///
/// Printed with ``description`` as `file:line: Kind/namespace/name: field: message` (errors) or
/// `file:line: Kind/namespace/name: field: warning: message` (warnings).
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    /// How bad a problem is: errors prevent a snapshot from being built, warnings do not. A broken reference
    /// (a route to a subset no DestinationRule defines) fails `weft check` but does not stop the daemons: the
    /// configuration loads and only the requests that use the reference fail (503 `NR`), as Istio's control plane
    /// accepts such a configuration while `istioctl analyze` reports it as an error.
    public enum Severity: String, Sendable {
        case error
        case brokenReference
        case warning
    }

    /// Whether this problem prevents the manifests from being used.
    public var severity: Severity
    /// The file the problem is in, as the path was given (or the source name for in-memory sources).
    public var file: String
    /// The 1-based line of the offending node; 0 when the problem concerns the whole file.
    public var line: Int
    /// `Kind/namespace/name`, `Kind/name` for cluster-scoped objects, or `-` when unknown.
    public var object: String
    /// The dotted field path inside the object, such as `spec.ports[1].targetPort`, or `-` for the document.
    public var field: String
    /// What is wrong and what to do about it.
    public var message: String

    /// Creates a diagnostic.
    public init(
        severity: Severity,
        file: String,
        line: Int,
        object: String = "-",
        field: String = "-",
        message: String
    ) {
        self.severity = severity
        self.file = file
        self.line = line
        self.object = object
        self.field = field
        self.message = message
    }

    /// `file:line: object: field: message`, with `warning: ` before the message for warnings.
    public var description: String {
        let prefix = "\(file):\(line): \(object): \(field): "
        switch severity {
        case .error: return prefix + message
        case .brokenReference: return prefix + "error (the configuration still loads; the requests affected fail): " + message
        case .warning: return prefix + "warning: " + message
        }
    }

    /// Whether this is an error that stops the configuration from loading.
    public var isError: Bool { severity == .error }

    /// Whether `weft check` fails on this: an error or a broken reference.
    public var failsCheck: Bool { severity != .warning }
}
