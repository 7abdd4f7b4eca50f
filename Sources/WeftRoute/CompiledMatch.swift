// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// One `matches[]` entry compiled: path, method, headers and query parameters, all of which must match.
struct CompiledMatch: Sendable {
    struct Header: Sendable {
        let lowercasedName: [UInt8]
        /// The name as a string, for the rare repeated-header path.
        let name: String
        let value: ValueMatcher
    }

    struct QueryParam: Sendable {
        let name: [UInt8]
        let nameString: String
        let value: ValueMatcher
    }

    /// The index in `matches[]`; `nil` for the implicit match of a rule without matches.
    let index: Int?
    let path: PathMatcher
    /// Characters of the configured path value, for the "longest prefix" precedence step.
    let pathLength: Int
    /// The `PathPrefix` value as configured, for `ReplacePrefixMatch`.
    let matchedPrefix: String?
    let method: [UInt8]?
    /// Header matches, one per name (later duplicates dropped).
    let headers: [Header]
    /// Query matches, one per name (later duplicates dropped).
    let queryParams: [QueryParam]

    /// Whether the request matches; cheapest checks first.
    @inline(__always)
    func matches(_ bytes: RequestBytes, _ request: RouteRequest) -> Bool {
        if let method, !Bytes.equal(bytes.method, method) { return false }
        guard path.matches(bytes.path, { request.pathWithoutQuery }) else { return false }
        for index in headers.indices where !Self.matches(headers[index], in: request.headers) { return false }
        if !queryParams.isEmpty {
            guard let query = bytes.query else { return false }
            for param in queryParams {
                guard let range = Bytes.firstQueryValue(named: param.name, in: query) else { return false }
                let value = UnsafeBufferPointer(rebasing: query[range])
                guard param.value.matches(value, { request.queryValue(named: param.nameString) ?? "" }) else {
                    return false
                }
            }
        }
        return true
    }

    /// A header matches when present and its value (repeated fields joined with `,`) matches. Only a
    /// repeated header allocates, to build the joined value.
    @inline(__always)
    static func matches(_ header: Header, in fields: [HTTPHeaderField]) -> Bool {
        var first: Int?
        var repeated = false
        for index in fields.indices {
            let isNamed = Bytes.with(fields[index].name) {
                Bytes.equalIgnoringCase($0, lowercased: header.lowercasedName)
            }
            guard isNamed else { continue }
            if first == nil {
                first = index
            } else {
                repeated = true
                break
            }
        }
        guard let first else { return false }
        if !repeated {
            let value = fields[first].value
            return Bytes.with(value) { header.value.matches($0) { value[...] } }
        }
        let joined = fields.values(named: header.name).joined(separator: ",")
        return Bytes.with(joined) { header.value.matches($0) { joined[...] } }
    }
}
