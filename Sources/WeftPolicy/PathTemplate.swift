// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An AuthorizationPolicy path template: a `paths`/`notPaths` value containing `{*}` or `{**}`.
///
/// Istio hands these to Envoy's URI template matcher after rewriting `{*}` to `*` and `{**}` to `**`, and
/// the matcher compiles the template to a regular expression matched against the whole path:
/// - `{*}` matches one or more path characters within one segment (`[A-Za-z0-9-._~%!$&'()+,;:@=]+`), so
///   `/foo/{*}` matches `/foo/bar` but not `/foo/`, `/foo/bar/` or `/foo/bar/baz`;
/// - `{**}` matches zero or more path characters or `/`, across segments, so `/foo/{**}` matches `/foo/`,
///   `/foo/bar` and `/foo/bar/baz` but not `/foo`;
/// - literal segments match exactly (case-sensitive), and a trailing `/` is a literal `/`, so
///   `/foo/{**}/` matches `/foo/bar/` and `/foo//` but neither `/foo/bar` nor `/foo/bar/baz.txt` (the
///   istio/api comment claims the last one matches; Envoy's compiled expression does not, and Weft follows
///   Envoy, which is what Istio actually enforces).
///
/// Accepted templates, as istiod validates them (`CheckValidPathTemplate`) plus Envoy's parser: a leading
/// `/`; segments separated by single `/`, optionally one trailing `/`; each segment either exactly `{*}`,
/// exactly `{**}`, or a non-empty literal of the characters above; at most one `{**}` and no operator after
/// it (literal segments may follow it: `/foo/{**}/bar`). Rejected: `/foo/{*}.txt` (an operator sharing its
/// segment), `/*/baz/{*}` (a bare `*`), `/{**}/foo/{*}` (an operator after `{**}`), `/foo//{*}` (an empty
/// segment), templates without a leading `/`, and any other `{` or `}` (`/foo/{id}`), as istiod rejects
/// braces outside an operator.
struct PathTemplate: Sendable, CustomStringConvertible {
    private enum Element: Sendable {
        case literal([UInt8])
        /// `{*}`.
        case segment
        /// `{**}`; only literals follow it.
        case segments
    }

    /// The template as written.
    let description: String
    /// The elements before `{**}`, or all of them.
    private let head: [Element]
    /// Whether the template has `{**}`.
    private let hasAny: Bool
    /// The literal text after `{**}` (its segments and slashes joined).
    private let tail: [UInt8]

    /// Parses a template; `nil` when it breaks the rules above.
    init?(istio value: String) {
        guard value.hasPrefix("/") else { return nil }
        let segments = value.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var head: [Element] = []
        var tail: [UInt8] = []
        var hasAny = false
        var pending: [UInt8] = [UInt8(ascii: "/")]  // literal text not yet flushed into an element
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            if segment.elementsEqual("{*}".utf8) || segment.elementsEqual("{**}".utf8) {
                guard !hasAny else { return nil }
                head.append(.literal(pending))
                pending = []
                if segment.count == 3 {
                    head.append(.segment)
                } else {
                    hasAny = true
                }
            } else if segment.isEmpty {
                // Only a single trailing `/` may leave an empty segment (and not right after the leading one).
                guard isLast, index > 0 else { return nil }
            } else {
                guard segment.allSatisfy(Self.isGlobCharacter) else { return nil }
                pending += segment
            }
            if !isLast { pending.append(UInt8(ascii: "/")) }
        }
        guard head.contains(where: { if case .literal = $0 { false } else { true } }) || hasAny else { return nil }
        if hasAny { tail = pending } else { head.append(.literal(pending)) }
        self.description = value
        self.head = head.filter { if case .literal(let bytes) = $0 { !bytes.isEmpty } else { true } }
        self.hasAny = hasAny
        self.tail = tail
    }

    /// Whether `path` (normalised, without query) matches the whole template.
    func matches(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { matches(utf8: $0) }
    }

    private func matches(utf8 path: UnsafeBufferPointer<UInt8>) -> Bool {
        var position = 0
        for element in head {
            switch element {
            case .literal(let literal):
                guard path.count - position >= literal.count,
                    path[position..<(position + literal.count)].elementsEqual(literal)
                else { return false }
                position += literal.count
            case .segment:
                let start = position
                while position < path.count, Self.isGlobCharacter(path[position]) { position += 1 }
                guard position > start else { return false }
            case .segments:
                return false  // never in `head`
            }
        }
        guard hasAny else { return position == path.count }
        guard path.count - position >= tail.count, path[(path.count - tail.count)...].elementsEqual(tail) else {
            return false
        }
        return path[position..<(path.count - tail.count)].allSatisfy {
            $0 == UInt8(ascii: "/") || Self.isGlobCharacter($0)
        }
    }

    /// Envoy's template literal set: RFC 3986 `pchar` without `*` (unreserved, `%`, `!$&'()+,;=`, `:@`).
    private static func isGlobCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~%!$&'()+,;:@=".utf8.contains(byte)
        }
    }
}
