// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A problem in a VirtualService or DestinationRule that keeps it out of the waypoint's configuration.
///
/// ``field`` is the path inside `spec` (`http[0].route[1].weight`), so the manifest loader can point at
/// `spec.http[0].route[1].weight` and its line.
public struct TrafficConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field path inside `spec`.
    public var field: String
    /// What is wrong, for an operator.
    public var message: String

    /// Creates an error.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `field: message`.
    public var description: String { "\(field): \(message)" }
}
