// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// One populated policy field compiled for matching: the attribute it reads, its values, and whether it is
/// a `notX` field. A positive field matches when any value matches; a negative one when none does.
///
/// An attribute the connection or request does not have (a plaintext peer has no principal, namespace or
/// service account; no request has a JWT principal; a header may be missing) matches no value, so
/// `principals` fails and `notPrincipals` passes, exactly as in ztunnel (`src/rbac.rs`) and as Envoy's RBAC
/// filter treats a missing attribute. The node compiles only the L4 attributes; the waypoint compiles all.
///
/// A final class: the evaluation loops then retain one reference per field instead of copying (and
/// retaining) each of its arrays.
final class FieldMatch: Sendable {
    /// The attribute a field reads.
    enum Attribute: Hashable, Sendable {
        case sourcePrincipal
        case sourceNamespace
        case sourceServiceAccount
        case sourceIP
        case destinationIP
        case destinationPort
        // Waypoint only:
        /// The trust domain of the peer identity (`trustDomains`, `source.trustDomain`).
        case sourceTrustDomain
        /// `remoteIpBlocks`, `remote.ip`: the peer address, as no `X-Forwarded-For` hop is trusted.
        case remoteIP
        /// `requestPrincipals`: a JWT `iss/sub`; never present (Weft validates no JWT).
        case requestPrincipal
        /// A `request.auth.*` key (the key as written); never present.
        case requestAuth(String)
        /// `hosts`: the authority, compared with and without its port, case-insensitively.
        case host
        /// `methods`.
        case method
        /// `paths`: the normalised path.
        case path
        /// `request.headers[<name>]` (name lowercased): the joined values.
        case header(String)
        /// `request.experimental.inline.headers[<name>]`: any one of the comma-separated values.
        case inlineHeader(String)
        /// A `when` key with no value at a waypoint (`connection.sni`, `experimental.envoy.filters.*`).
        case unavailable(String)

        /// The attribute in explanations: `source principal`, `destination port`, `header x-token`, …
        var label: String {
            switch self {
            case .sourcePrincipal: return "source principal"
            case .sourceNamespace: return "source namespace"
            case .sourceServiceAccount: return "source service account"
            case .sourceIP: return "source IP"
            case .destinationIP: return "destination IP"
            case .destinationPort: return "destination port"
            case .sourceTrustDomain: return "source trust domain"
            case .remoteIP: return "remote IP (the peer address; X-Forwarded-For is not trusted)"
            case .requestPrincipal: return "request principal"
            case .requestAuth(let key): return key
            case .host: return "host"
            case .method: return "method"
            case .path: return "path"
            case .header(let name): return "header \(name)"
            case .inlineHeader(let name): return "inline header \(name)"
            case .unavailable(let key): return key
            }
        }

        /// Why the attribute has no value, when it has none.
        var absence: String {
            switch self {
            case .sourcePrincipal, .sourceNamespace, .sourceServiceAccount, .sourceTrustDomain:
                return "no \(label) (plaintext connection without a peer identity)"
            case .requestPrincipal, .requestAuth:
                return "no \(label) (Weft validates no JWT, so no request has one)"
            case .header(let name), .inlineHeader(let name):
                return "no header \(name) in the request"
            case .unavailable(let key):
                return "\(key) has no value at a waypoint"
            case .sourceIP, .destinationIP, .destinationPort, .remoteIP, .host, .method, .path:
                return "no \(label)"
            }
        }
    }

    /// A service account a policy names: `ns/sa`, or a bare `sa` resolved to the policy's namespace.
    struct ServiceAccountName: Sendable, CustomStringConvertible {
        var namespace: String
        var name: String
        var description: String { "\(namespace)/\(name)" }
    }

    /// The compiled values; the case always fits the attribute.
    enum Values: Sendable {
        case strings([StringMatch])
        /// Istio values compared ASCII case-insensitively (`hosts`): lowercased once here.
        case caseInsensitiveStrings([String])
        /// `paths` values: Istio string forms, or templates with `{*}`/`{**}`.
        case paths([String])
        case serviceAccounts([ServiceAccountName])
        case blocks([IPPrefix])
        case ports([UInt16])
        /// Values that could not be read (only possible for policies built in code, as the loader rejects
        /// them); they match nothing, so a positive field fails closed.
        case unreadable([String])
    }

    /// One `paths` value.
    enum PathPattern: Sendable {
        case string(ByteMatch)
        case template(PathTemplate)
        /// A value with `{` or `}` that is not a valid template: matches nothing.
        case invalid(String)
    }

    let attribute: Attribute
    let negated: Bool
    /// Where the field was written, for explanations: `from[0].source.notPrincipals`, `when[1].values`.
    let field: String
    // The values, flattened by kind so the hot path reads them in place; only the kind that fits the
    // attribute is non-empty.
    private let strings: [ByteMatch]
    private let paths: [PathPattern]
    private let accounts: [ServiceAccountName]
    private let blocks: [IPPrefix]
    private let ports: [UInt16]
    private let unreadable: [String]
    /// The values as written, when they differ from what is matched (lowercased hosts).
    private let written: [String]

    init(attribute: Attribute, negated: Bool, values: Values, field: String) {
        self.attribute = attribute
        self.negated = negated
        self.field = field
        var strings: [ByteMatch] = []
        var paths: [PathPattern] = []
        var accounts: [ServiceAccountName] = []
        var blocks: [IPPrefix] = []
        var ports: [UInt16] = []
        var unreadable: [String] = []
        var written: [String] = []
        switch values {
        case .strings(let values): strings = values.map(ByteMatch.init)
        case .caseInsensitiveStrings(let values):
            written = values
            strings = values.map { ByteMatch(StringMatch(istio: RequestFacts.asciiLowercased($0))) }
        case .paths(let values):
            paths = values.map { value in
                // Braces only ever belong to a template; istiod rejects any other use of them.
                guard value.utf8.contains(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") }) else {
                    return .string(ByteMatch(StringMatch(istio: value)))
                }
                return PathTemplate(istio: value).map(PathPattern.template) ?? .invalid(value)
            }
        case .serviceAccounts(let values): accounts = values
        case .blocks(let values): blocks = values
        case .ports(let values): ports = values
        case .unreadable(let values): unreadable = values
        }
        self.strings = strings
        self.paths = paths
        self.accounts = accounts
        self.blocks = blocks
        self.ports = ports
        self.unreadable = unreadable
        self.written = written
    }

    /// Whether this field is satisfied by the connection or request.
    @inline(__always)
    func matches<Facts: PolicyFacts>(_ facts: Facts) -> Bool {
        firstMatchingValue(facts) == nil ? negated : !negated
    }

    /// The index of the first value that matches the attribute, if any. Loops index into the arrays so
    /// elements are read in place rather than copied (and retained).
    func firstMatchingValue<Facts: PolicyFacts>(_ facts: Facts) -> Int? {
        switch attribute {
        case .sourcePrincipal:
            guard let principal = facts.sourcePrincipal else { return nil }
            return firstString(matching: principal)
        case .sourceNamespace:
            guard let namespace = facts.sourceNamespace else { return nil }
            return firstString(matching: namespace)
        case .sourceTrustDomain:
            guard let identity = facts.sourceIdentity else { return nil }
            return firstString(matching: identity.trustDomain)
        case .sourceServiceAccount:
            guard let identity = facts.sourceIdentity else { return nil }
            for index in accounts.indices
            where accounts[index].name == identity.serviceAccount && accounts[index].namespace == identity.namespace {
                return index
            }
            return nil
        case .sourceIP, .remoteIP:
            return firstBlock(containing: facts.sourceIP)
        case .destinationIP:
            return firstBlock(containing: facts.destinationIP)
        case .destinationPort:
            for index in ports.indices where ports[index] == facts.destinationPort { return index }
            return nil
        case .host:
            guard let host = facts.httpHost, let authority = facts.httpAuthority else { return nil }
            for index in strings.indices where strings[index].matches(host) || strings[index].matches(authority) {
                return index
            }
            return nil
        case .method:
            guard let method = facts.httpMethod else { return nil }
            return firstString(matching: method)
        case .path:
            guard let path = facts.httpPath else { return nil }
            for index in paths.indices {
                switch paths[index] {
                case .string(let match): if match.matches(path) { return index }
                case .template(let template): if template.matches(path) { return index }
                case .invalid: continue
                }
            }
            return nil
        case .header(let name):
            guard let value = facts.httpHeader(name) else { return nil }
            // `*` on a header is Envoy's present_match: any value, even an empty one.
            for index in strings.indices where strings[index].isPresence || strings[index].matches(value) {
                return index
            }
            return nil
        case .inlineHeader(let name):
            guard let value = facts.httpHeader(name) else { return nil }
            for index in strings.indices
            where strings[index].isPresence || strings[index].matchesAnyElement(of: value) {
                return index
            }
            return nil
        case .requestPrincipal, .requestAuth, .unavailable:
            return nil
        }
    }

    @inline(__always)
    private func firstString(matching candidate: String) -> Int? {
        for index in strings.indices where strings[index].matches(candidate) { return index }
        return nil
    }

    @inline(__always)
    private func firstBlock(containing address: IPAddress) -> Int? {
        for index in blocks.indices where blocks[index].contains(address) { return index }
        return nil
    }

    // MARK: - Explanations

    /// The attribute's value, quoted, or `nil` when the connection or request has none.
    func observed<Facts: PolicyFacts>(_ facts: Facts) -> String? {
        switch attribute {
        case .sourcePrincipal: return facts.sourcePrincipal.map { "\"\($0)\"" }
        case .sourceNamespace: return facts.sourceNamespace.map { "\"\($0)\"" }
        case .sourceServiceAccount: return facts.sourceIdentity.map { "\"\($0.namespace)/\($0.serviceAccount)\"" }
        case .sourceTrustDomain: return facts.sourceIdentity.map { "\"\($0.trustDomain)\"" }
        case .sourceIP, .remoteIP: return "\(facts.sourceIP)"
        case .destinationIP: return "\(facts.destinationIP)"
        case .destinationPort: return "\(facts.destinationPort)"
        case .host:
            guard let host = facts.httpHost, let authority = facts.httpAuthority else { return nil }
            return host == authority ? "\"\(host)\"" : "\"\(host)\" (authority \"\(authority)\")"
        case .method: return facts.httpMethod.map { "\"\($0)\"" }
        case .path: return facts.httpPath.map { "\"\($0)\"" }
        case .header(let name), .inlineHeader(let name): return facts.httpHeader(name).map { "\"\($0)\"" }
        case .requestPrincipal, .requestAuth, .unavailable: return nil
        }
    }

    /// The values as written, for explanations.
    var valueTexts: [String] {
        if !unreadable.isEmpty { return unreadable.map { "\"\($0)\" (unreadable)" } }
        if !written.isEmpty { return written.map { "\"\($0)\"" } }
        switch attribute {
        case .sourceServiceAccount: return accounts.map { "\"\($0)\"" }
        case .sourceIP, .destinationIP, .remoteIP: return blocks.map(\.description)
        case .destinationPort: return ports.map(String.init)
        case .path:
            return paths.map {
                switch $0 {
                case .string(let match): return "\"\(match.match)\""
                case .template(let template): return "\"\(template)\""
                case .invalid(let value): return "\"\(value)\" (invalid path template)"
                }
            }
        default: return strings.map { "\"\($0.match)\"" }
        }
    }

    /// One line saying whether and why this field matched, e.g.
    /// `from[0].source.namespaces: source namespace "foo" matched "foo"`.
    func explain<Facts: PolicyFacts>(_ facts: Facts) -> (matched: Bool, text: String) {
        let list = "[" + valueTexts.joined(separator: ", ") + "]"
        let matched = matches(facts)
        guard let observed = observed(facts) else {
            let why = attribute.absence
            return negated
                ? (matched, "\(field): \(why), so none of \(list) matched")
                : (matched, "\(field): \(why) cannot match \(list)")
        }
        let hit = firstMatchingValue(facts).map { valueTexts[$0] }
        switch (negated, hit) {
        case (false, let hit?): return (matched, "\(field): \(attribute.label) \(observed) matched \(hit)")
        case (false, nil): return (matched, "\(field): \(attribute.label) \(observed) matched none of \(list)")
        case (true, nil): return (matched, "\(field): \(attribute.label) \(observed) is none of \(list)")
        case (true, let hit?): return (matched, "\(field): \(attribute.label) \(observed) is excluded by \(hit)")
        }
    }
}

/// A ``StringMatch`` with its value as UTF-8 bytes, compared byte for byte against the candidate's
/// contiguous UTF-8 storage.
struct ByteMatch: Sendable {
    let match: StringMatch
    private let bytes: [UInt8]

    init(_ match: StringMatch) {
        self.match = match
        switch match {
        case .exact(let value), .prefix(let value), .suffix(let value): bytes = Array(value.utf8)
        case .presence: bytes = []
        }
    }

    /// Whether the value is `*`.
    var isPresence: Bool {
        if case .presence = match { return true }
        return false
    }

    @inline(__always)
    func matches(_ candidate: String) -> Bool {
        if case .presence = match { return !candidate.isEmpty }
        return candidate.utf8.withContiguousStorageIfAvailable { matches(utf8: $0) } ?? match.matches(candidate)
    }

    /// Whether any element of the comma-separated `list` matches (Istio's inline-header matching: the
    /// value must be one of the elements, compared without trimming).
    func matchesAnyElement(of list: String) -> Bool {
        var list = list
        return list.withUTF8 { buffer in
            var start = 0
            for end in 0...buffer.count where end == buffer.count || buffer[end] == UInt8(ascii: ",") {
                if matches(utf8: UnsafeBufferPointer(rebasing: buffer[start..<end])) { return true }
                start = end + 1
            }
            return false
        }
    }

    private func matches(utf8 candidate: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { value in
            guard candidate.count >= value.count else { return false }
            switch match {
            case .exact: return candidate.count == value.count && candidate.elementsEqual(value)
            case .prefix: return UnsafeBufferPointer(rebasing: candidate.prefix(value.count)).elementsEqual(value)
            case .suffix: return UnsafeBufferPointer(rebasing: candidate.suffix(value.count)).elementsEqual(value)
            case .presence: return !candidate.isEmpty
            }
        }
    }
}
