// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Byte-level helpers for the ASCII parts of HTTP: header names, hostnames, separators.
///
/// Matching works on UTF-8 bytes rather than `Character`s, both for speed and because HTTP compares
/// octets: a combining mark after `/` must not merge with it into one grapheme and hide a separator.
enum ASCII {
    static let slash = UInt8(ascii: "/")
    static let question = UInt8(ascii: "?")
    static let ampersand = UInt8(ascii: "&")
    static let equals = UInt8(ascii: "=")
    static let colon = UInt8(ascii: ":")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")

    /// `byte` in lower case when it is an ASCII capital letter.
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// Whether `a` equals `b` ignoring ASCII case.
    @inline(__always)
    static func equalsIgnoringCase(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        return x.elementsEqual(y) { lower($0) == lower($1) }
    }

    /// `text` in ASCII lower case (non-ASCII bytes unchanged). Used at compile time only.
    static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map(lower), as: UTF8.self)
    }

    /// Whether `text` is exactly `expected`, byte for byte.
    @inline(__always)
    static func same(_ text: some StringProtocol, _ expected: some StringProtocol) -> Bool {
        let x = text.utf8
        let y = expected.utf8
        return x.count == y.count && x.elementsEqual(y)
    }
}
