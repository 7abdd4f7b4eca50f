// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A problem in an HTTPRoute that keeps it out of a ``RouteTable`` (Gateway API would report the route
/// `Accepted=False`). Other routes of the table are unaffected.
///
/// Printed as `file:line: HTTPRoute namespace/name: field: message`, for example
/// `routes.yaml:12: HTTPRoute shop/reviews: rules[0].matches[1].path.value:
/// invalid regular expression "(": expected ')'` (on one line).
/// Equality compares ``code`` only, so tests and callers can match on the kind of problem.
public struct RouteCompileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem; stable across releases, new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case invalidRegularExpression
            case invalidPath
            case invalidHeaderName
            case invalidQueryParam
            case invalidHostname
            case invalidFilter
            case invalidBackendRef
            case invalidTimeout
            case invalidRetry
        }

        private let value: Value

        /// A regular expression (path, header or query value) does not compile.
        public static let invalidRegularExpression = Code(value: .invalidRegularExpression)
        /// An `Exact` or `PathPrefix` value is not a valid absolute path.
        public static let invalidPath = Code(value: .invalidPath)
        /// A header match or header modifier names an invalid (or pseudo-) header.
        public static let invalidHeaderName = Code(value: .invalidHeaderName)
        /// A query parameter match is malformed.
        public static let invalidQueryParam = Code(value: .invalidQueryParam)
        /// An entry of `spec.hostnames` is malformed.
        public static let invalidHostname = Code(value: .invalidHostname)
        /// Filters break a Gateway API rule (combination, repetition, value range).
        public static let invalidFilter = Code(value: .invalidFilter)
        /// A backend reference is malformed (weight out of range).
        public static let invalidBackendRef = Code(value: .invalidBackendRef)
        /// A timeout is negative, or `backendRequest` exceeds `request`.
        public static let invalidTimeout = Code(value: .invalidTimeout)
        /// A retry stanza is out of range.
        public static let invalidRetry = Code(value: .invalidRetry)

        /// The code's name, such as `invalidRegularExpression`.
        public var description: String { value.rawValue }
    }

    /// The kind of problem.
    public var code: Code
    /// The route.
    public var route: RouteReference
    /// The field path inside `spec`, such as `rules[0].matches[1].path.value`.
    public var field: String
    /// What is wrong, for an operator.
    public var message: String

    /// Creates an error.
    public init(code: Code, route: RouteReference, field: String, message: String) {
        self.code = code
        self.route = route
        self.field = field
        self.message = message
    }

    /// `file:line: HTTPRoute namespace/name: field: message` (without `file:line: ` when unknown).
    public var description: String {
        (route.location.map { "\($0): " } ?? "") + "HTTPRoute \(route.key): \(field): \(message)"
    }

    /// Equal when the codes are equal.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }

    /// Hashes the code only, consistently with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
