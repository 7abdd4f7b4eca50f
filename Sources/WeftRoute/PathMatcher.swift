// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A compiled `path` match and its precedence rank.
enum PathMatcher: Sendable {
    /// The whole path, byte for byte.
    case exact([UInt8])
    /// Segment prefix: the value's bytes without trailing slashes (empty for `/`, which matches all).
    case prefix(trimmed: [UInt8])
    /// Whole-path regular expression.
    case regex(CompiledRegex)

    /// Precedence of the path type: Exact, then PathPrefix, then RegularExpression (as Istio ranks them).
    var rank: Int {
        switch self {
        case .exact: return 3
        case .prefix: return 2
        case .regex: return 1
        }
    }

    /// Whether the path matches; `text` (the path as a string) is only evaluated for a regex.
    @inline(__always)
    func matches(_ path: UnsafeBufferPointer<UInt8>, _ text: () -> Substring) -> Bool {
        switch self {
        case .exact(let value):
            return Bytes.equal(path, value)
        case .prefix(let trimmed):
            guard Bytes.hasPrefix(path, trimmed) else { return false }
            return path.count == trimmed.count || trimmed.isEmpty || path[trimmed.count] == ASCII.slash
        case .regex(let regex):
            return regex.matchesWhole(text())
        }
    }

    /// Whether `path` starts with the segments of `trimmedPrefix` (a prefix without trailing slash):
    /// equal, or followed by `/`. An empty prefix (the value `/`) matches every path.
    static func hasSegmentPrefix(_ path: Substring, trimmedPrefix: some StringProtocol) -> Bool {
        let bytes = path.utf8
        let prefix = trimmedPrefix.utf8
        let count = prefix.count
        if count == 0 { return true }
        guard bytes.count >= count, bytes.starts(with: prefix) else { return false }
        if bytes.count == count { return true }
        return bytes[bytes.index(bytes.startIndex, offsetBy: count)] == ASCII.slash
    }
}

/// A route hostname as compiled: its tier and length give the first precedence step.
enum HostnameMatcher: Sendable {
    /// The route has no hostnames: every host.
    case any
    /// A precise hostname, lower case.
    case exact([UInt8])
    /// `*.example.com`, stored as `.example.com` in lower case: hosts with at least one more label.
    case wildcard(suffix: [UInt8])

    /// Exact names first, then wildcards, then routes without hostnames.
    var tier: Int {
        switch self {
        case .exact: return 2
        case .wildcard: return 1
        case .any: return 0
        }
    }

    /// Characters of the configured hostname (the longest match wins within a tier).
    var length: Int {
        switch self {
        case .any: return 0
        case .exact(let name): return name.count
        case .wildcard(let suffix): return suffix.count + 1
        }
    }

    @inline(__always)
    func matches(_ host: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case .any: return true
        case .exact(let name): return Bytes.equalIgnoringCase(host, lowercased: name)
        case .wildcard(let suffix):
            return host.count > suffix.count && Bytes.hasSuffixIgnoringCase(host, lowercased: suffix)
        }
    }
}
