// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A regular expression compiled once at table build time, matched against whole values.
///
/// Dialect: Swift `Regex` syntax (PCRE-like; RE2's common syntax such as classes, alternation, bounded
/// repetition, `(?i)` and `\d` is accepted). Matching uses Unicode-scalar semantics, as RE2 matches code
/// points rather than grapheme clusters, and is always a **full match**: the expression must match the
/// entire path or value, as Envoy's `safe_regex` (RE2) does. `/api/v[0-9]+` therefore does not match
/// `/api/v1/users`; write `/api/v[0-9]+(/.*)?` for that.
///
/// `@unchecked Sendable`: `Regex` is not declared `Sendable`, but a compiled value is immutable; its
/// lazily lowered program is published atomically by the standard library, and ``init(_:)`` lowers it
/// eagerly (by running a first match) so concurrent matches only read it.
final class CompiledRegex: @unchecked Sendable {
    /// The expression as configured.
    let pattern: String
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`.
    ///
    /// - Throws: The parser's error, whose description says what is wrong (`expected ')'`).
    init(_ pattern: String) throws {
        self.pattern = pattern
        let regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
        _ = try regex.wholeMatch(in: "")
        self.regex = regex
    }

    /// Whether the expression matches all of `text`.
    @inline(__always)
    func matchesWhole(_ text: Substring) -> Bool {
        (try? regex.wholeMatch(in: text)) != nil
    }
}

/// How a header or query parameter value is compared.
enum ValueMatcher: Sendable {
    /// The value's bytes, compared exactly.
    case exact([UInt8])
    case regex(CompiledRegex)

    /// Whether the value matches; `text` is only evaluated for a regular expression.
    @inline(__always)
    func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ text: () -> Substring) -> Bool {
        switch self {
        case .exact(let expected): return Bytes.equal(bytes, expected)
        case .regex(let regex): return regex.matchesWhole(text())
        }
    }
}
