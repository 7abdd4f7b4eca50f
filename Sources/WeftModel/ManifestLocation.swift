// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Where an object was declared in the manifests: a file and a 1-based line, printed `file:line`.
///
/// Carried by model values that operators need to find again from a log line or `weft explain`,
/// such as an ``AuthorizationPolicy`` that denied a connection.
public struct ManifestLocation: Hashable, Sendable, CustomStringConvertible {
    /// The file as the loader was given it (or the source name of an in-memory manifest).
    public var file: String
    /// The 1-based line, normally that of the object's `metadata.name`.
    public var line: Int

    /// Creates a location.
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `file:line`.
    public var description: String { "\(file):\(line)" }
}
