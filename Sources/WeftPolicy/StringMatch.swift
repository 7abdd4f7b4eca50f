// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// One AuthorizationPolicy string value as Istio reads it: `*` is presence (any non-empty value), `*abc` a
/// suffix, `abc*` a prefix, anything else exact. Used for principals, namespaces and `when` values.
///
/// Comparison is on UTF-8 bytes, as Istio and ztunnel compare strings. A value that both starts and
/// ends with `*` (such as `*abc*`) is a suffix match for `abc*`, exactly as istiod converts it.
public enum StringMatch: Hashable, Sendable, CustomStringConvertible {
    case exact(String)
    case prefix(String)
    case suffix(String)
    case presence

    /// Reads an Istio policy value.
    public init(istio value: String) {
        if value == "*" {
            self = .presence
        } else if value.hasPrefix("*") {
            self = .suffix(String(value.dropFirst()))
        } else if value.hasSuffix("*") {
            self = .prefix(String(value.dropLast()))
        } else {
            self = .exact(value)
        }
    }

    /// Whether `candidate` matches.
    public func matches(_ candidate: String) -> Bool {
        switch self {
        case .exact(let value):
            return candidate.utf8.elementsEqual(value.utf8)
        case .prefix(let value):
            return candidate.utf8.starts(with: value.utf8)
        case .suffix(let value):
            let bytes = candidate.utf8
            let count = value.utf8.count
            guard bytes.count >= count else { return false }
            return bytes.suffix(count).elementsEqual(value.utf8)
        case .presence:
            return !candidate.isEmpty
        }
    }

    /// The value in Istio's notation.
    public var description: String {
        switch self {
        case .exact(let value): return value
        case .prefix(let value): return value + "*"
        case .suffix(let value): return "*" + value
        case .presence: return "*"
        }
    }
}
