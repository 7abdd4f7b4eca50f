// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// One HTTP header line: a name, compared case-insensitively, and its value, compared exactly.
///
/// Requests and responses carry an ordered `[HTTPHeaderField]`, so repeated headers keep their order
/// and the original spelling of names is forwarded unchanged.
public struct HTTPHeaderField: Hashable, Sendable, CustomStringConvertible {
    /// The name as received or configured; compare it with ``hasName(_:)``.
    public var name: String
    /// The value.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Whether this field's name is `name`, ignoring ASCII case.
    @inline(__always)
    public func hasName(_ name: some StringProtocol) -> Bool {
        ASCII.equalsIgnoringCase(self.name, name)
    }

    /// `name: value`.
    public var description: String { "\(name): \(value)" }
}

extension Array where Element == HTTPHeaderField {
    /// The values of every field named `name` (case-insensitive), in order.
    public func values(named name: some StringProtocol) -> [String] {
        compactMap { $0.hasName(name) ? $0.value : nil }
    }

    /// The values of every field named `name` joined with `,`, as a proxy folds a repeated header
    /// (RFC 9110 §5.3); `nil` when the header is absent.
    public func combinedValue(named name: some StringProtocol) -> String? {
        let found = values(named: name)
        return found.isEmpty ? nil : found.joined(separator: ",")
    }
}
