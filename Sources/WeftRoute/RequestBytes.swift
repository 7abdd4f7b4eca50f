// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The UTF-8 bytes of the request parts matching reads, borrowed for one table scan.
///
/// Matching compares bytes in place: the request's strings are native UTF-8, so borrowing their storage
/// costs nothing, and comparing buffers avoids the per-character overhead of string views.
struct RequestBytes {
    /// The path without the query string.
    let path: UnsafeBufferPointer<UInt8>
    /// The query string after `?`, or `nil` when there is no `?`.
    let query: UnsafeBufferPointer<UInt8>?
    /// The authority without its port.
    let host: UnsafeBufferPointer<UInt8>
    /// The method.
    let method: UnsafeBufferPointer<UInt8>

    /// Borrows the bytes of `request` for the duration of `body`.
    @inline(__always)
    static func with<Result>(_ request: RouteRequest, _ body: (RequestBytes) -> Result) -> Result {
        Bytes.with(request.path) { target in
            Bytes.with(request.authority) { authority in
                Bytes.with(request.method) { method in
                    let mark = target.firstIndex(of: ASCII.question)
                    let path = UnsafeBufferPointer(rebasing: target[..<(mark ?? target.endIndex)])
                    let query = mark.map { UnsafeBufferPointer(rebasing: target[($0 + 1)...]) }
                    return body(
                        RequestBytes(path: path, query: query, host: Self.host(of: authority), method: method)
                    )
                }
            }
        }
    }

    /// The authority without `:port`; an IPv6 literal keeps its brackets.
    private static func host(of authority: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if authority.first == ASCII.openBracket {
            guard let close = authority.firstIndex(of: ASCII.closeBracket) else { return authority }
            return UnsafeBufferPointer(rebasing: authority[...close])
        }
        guard let colon = authority.lastIndex(of: ASCII.colon) else { return authority }
        return UnsafeBufferPointer(rebasing: authority[..<colon])
    }
}

/// Comparisons over UTF-8 byte buffers, with configuration values pre-converted to `[UInt8]`.
enum Bytes {
    /// Calls `body` with the UTF-8 bytes of `string`, without copying a native string.
    @inline(__always)
    static func with<Result>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = string.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = string
        return copy.withUTF8(body)
    }

    /// Whether `bytes` equals `expected`.
    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ expected: [UInt8]) -> Bool {
        guard bytes.count == expected.count else { return false }
        return expected.withUnsafeBufferPointer { other in
            for index in 0..<other.count where bytes[index] != other[index] { return false }
            return true
        }
    }

    /// Whether `bytes` equals `lowercased` ignoring ASCII case (`lowercased` is already lower case).
    @inline(__always)
    static func equalIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, lowercased: [UInt8]) -> Bool {
        guard bytes.count == lowercased.count else { return false }
        return lowercased.withUnsafeBufferPointer { other in
            for index in 0..<other.count where ASCII.lower(bytes[index]) != other[index] { return false }
            return true
        }
    }

    /// Whether `bytes` starts with `prefix`.
    @inline(__always)
    static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: [UInt8]) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        return prefix.withUnsafeBufferPointer { other in
            for index in 0..<other.count where bytes[index] != other[index] { return false }
            return true
        }
    }

    /// Whether `bytes` ends with `suffix` ignoring ASCII case (`suffix` is already lower case).
    @inline(__always)
    static func hasSuffixIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, lowercased suffix: [UInt8]) -> Bool {
        guard bytes.count >= suffix.count else { return false }
        let offset = bytes.count - suffix.count
        return suffix.withUnsafeBufferPointer { other in
            for index in 0..<other.count where ASCII.lower(bytes[offset + index]) != other[index] { return false }
            return true
        }
    }

    /// The first value of parameter `name` in a query string, as a range of `query`'s indices.
    @inline(__always)
    static func firstQueryValue(named name: [UInt8], in query: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var start = 0
        while start < query.count {
            var end = start
            while end < query.count, query[end] != ASCII.ampersand { end += 1 }
            if end > start {
                var equals = start
                while equals < end, query[equals] != ASCII.equals { equals += 1 }
                if Bytes.equal(UnsafeBufferPointer(rebasing: query[start..<equals]), name) {
                    return equals < end ? (equals + 1)..<end : end..<end
                }
            }
            start = end + 1
        }
        return nil
    }
}
