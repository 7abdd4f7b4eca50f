// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Istio's `StringMatch`: one of `exact`, `prefix` or `regex` (RE2, **full** match; `(?i)` for case
/// insensitivity), as used by VirtualService `uri`, `method`, `headers` and `queryParams` matches.
public enum IstioStringMatch: Hashable, Sendable, CustomStringConvertible {
    /// The value must equal this string.
    case exact(String)
    /// The value must start with this string.
    case prefix(String)
    /// The value must match this regular expression as a whole.
    case regex(String)

    /// `exact: "v"`, `prefix: "v"` or `regex: "v"`.
    public var description: String {
        switch self {
        case .exact(let value): return "exact: \"\(value)\""
        case .prefix(let value): return "prefix: \"\(value)\""
        case .regex(let value): return "regex: \"\(value)\""
        }
    }
}

/// An ``IstioStringMatch`` with its regular expression compiled, as the table runs it.
enum CompiledStringMatch: Sendable {
    case exact(String)
    case prefix(String)
    case regex(CompiledRegex)
    /// `exact`/`prefix` compared ignoring ASCII case (`ignoreUriCase`).
    case exactIgnoringCase(String)
    case prefixIgnoringCase(String)

    /// Whether `value` matches.
    func matches(_ value: Substring) -> Bool {
        switch self {
        case .exact(let expected): return ASCII.same(value, expected)
        case .prefix(let prefix): return Self.hasPrefix(value, prefix)
        case .regex(let regex): return regex.matchesWhole(value)
        case .exactIgnoringCase(let expected): return ASCII.equalsIgnoringCase(value, expected)
        case .prefixIgnoringCase(let prefix):
            let bytes = value.utf8
            guard bytes.count >= prefix.utf8.count else { return false }
            return ASCII.equalsIgnoringCase(value.prefix(prefix.count), prefix)
        }
    }

    /// Byte-wise prefix test on the contiguous UTF-8 of both (a generic `starts(with:)` over UTF-8 views walks
    /// them index by index).
    static func hasPrefix(_ value: Substring, _ prefix: String) -> Bool {
        let fast = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            var prefix = prefix
            return prefix.withUTF8 { expected in
                guard bytes.count >= expected.count else { return false }
                return expected.isEmpty || memcmp(bytes.baseAddress!, expected.baseAddress!, expected.count) == 0
            }
        }
        return fast ?? value.utf8.starts(with: prefix.utf8)
    }
}
