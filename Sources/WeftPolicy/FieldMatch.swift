// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// One populated policy field compiled for matching: the attribute it reads, its values, and whether it is
/// a `notX` field. A positive field matches when any value matches; a negative one when none does.
///
/// An attribute the connection does not have (a plaintext peer has no principal, namespace or service
/// account) matches no value, so `principals` fails and `notPrincipals` passes, exactly as in ztunnel
/// (`src/rbac.rs`). The L7 attributes a waypoint will add (method, path, host, header, request principal)
/// become further ``Attribute`` and ``Values`` cases read from request facts; the node never builds them.
///
/// A final class: the evaluation loops then retain one reference per field instead of copying (and
/// retaining) each of its arrays.
final class FieldMatch: Sendable {
    /// The connection attribute a node-enforced field reads.
    enum Attribute: Sendable {
        case sourcePrincipal
        case sourceNamespace
        case sourceServiceAccount
        case sourceIP
        case destinationIP
        case destinationPort

        /// The attribute in explanations: `source principal`, `destination port`, …
        var label: String {
            switch self {
            case .sourcePrincipal: return "source principal"
            case .sourceNamespace: return "source namespace"
            case .sourceServiceAccount: return "source service account"
            case .sourceIP: return "source IP"
            case .destinationIP: return "destination IP"
            case .destinationPort: return "destination port"
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
        case serviceAccounts([ServiceAccountName])
        case blocks([IPPrefix])
        case ports([UInt16])
        /// Values that could not be read (only possible for policies built in code, as the loader rejects
        /// them); they match nothing, so a positive field fails closed.
        case unreadable([String])
    }

    let attribute: Attribute
    let negated: Bool
    /// Where the field was written, for explanations: `from[0].source.notPrincipals`, `when[1].values`.
    let field: String
    // The values, flattened by kind so the hot path reads them in place; only the kind that fits the
    // attribute is non-empty.
    private let strings: [ByteMatch]
    private let accounts: [ServiceAccountName]
    private let blocks: [IPPrefix]
    private let ports: [UInt16]
    private let unreadable: [String]

    init(attribute: Attribute, negated: Bool, values: Values, field: String) {
        self.attribute = attribute
        self.negated = negated
        self.field = field
        var strings: [ByteMatch] = []
        var accounts: [ServiceAccountName] = []
        var blocks: [IPPrefix] = []
        var ports: [UInt16] = []
        var unreadable: [String] = []
        switch values {
        case .strings(let values): strings = values.map(ByteMatch.init)
        case .serviceAccounts(let values): accounts = values
        case .blocks(let values): blocks = values
        case .ports(let values): ports = values
        case .unreadable(let values): unreadable = values
        }
        self.strings = strings
        self.accounts = accounts
        self.blocks = blocks
        self.ports = ports
        self.unreadable = unreadable
    }

    /// Whether this field is satisfied by the connection.
    @inline(__always)
    func matches(_ facts: ConnectionFacts) -> Bool {
        firstMatchingValue(facts) == nil ? negated : !negated
    }

    /// The index of the first value that matches the connection's attribute, if any. Loops index into the
    /// arrays so elements are read in place rather than copied (and retained).
    func firstMatchingValue(_ facts: ConnectionFacts) -> Int? {
        switch attribute {
        case .sourcePrincipal, .sourceNamespace:
            let candidate = attribute == .sourcePrincipal ? facts.sourcePrincipal : facts.sourceNamespace
            guard let candidate else { return nil }
            for index in strings.indices where strings[index].matches(candidate) { return index }
            return nil
        case .sourceServiceAccount:
            guard let identity = facts.sourceIdentity else { return nil }
            for index in accounts.indices
            where accounts[index].name == identity.serviceAccount && accounts[index].namespace == identity.namespace {
                return index
            }
            return nil
        case .sourceIP, .destinationIP:
            let address = attribute == .destinationIP ? facts.destinationIP : facts.sourceIP
            for index in blocks.indices where blocks[index].contains(address) { return index }
            return nil
        case .destinationPort:
            for index in ports.indices where ports[index] == facts.destinationPort { return index }
            return nil
        }
    }

    // MARK: - Explanations

    /// The connection's value of the attribute, quoted, or `nil` when the connection has none.
    func observed(_ facts: ConnectionFacts) -> String? {
        switch attribute {
        case .sourcePrincipal: return facts.sourcePrincipal.map { "\"\($0)\"" }
        case .sourceNamespace: return facts.sourceNamespace.map { "\"\($0)\"" }
        case .sourceServiceAccount: return facts.sourceIdentity.map { "\"\($0.namespace)/\($0.serviceAccount)\"" }
        case .sourceIP: return "\(facts.sourceIP)"
        case .destinationIP: return "\(facts.destinationIP)"
        case .destinationPort: return "\(facts.destinationPort)"
        }
    }

    /// The values as written, for explanations.
    var valueTexts: [String] {
        if !unreadable.isEmpty { return unreadable.map { "\"\($0)\" (unreadable)" } }
        switch attribute {
        case .sourcePrincipal, .sourceNamespace: return strings.map { "\"\($0.match)\"" }
        case .sourceServiceAccount: return accounts.map { "\"\($0)\"" }
        case .sourceIP, .destinationIP: return blocks.map(\.description)
        case .destinationPort: return ports.map(String.init)
        }
    }

    /// One line saying whether and why this field matched, e.g.
    /// `from[0].source.namespaces: source namespace "foo" matched "foo"`.
    func explain(_ facts: ConnectionFacts) -> (matched: Bool, text: String) {
        let list = "[" + valueTexts.joined(separator: ", ") + "]"
        let matched = matches(facts)
        guard let observed = observed(facts) else {
            let why = "no \(attribute.label) (plaintext connection without a peer identity)"
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

    @inline(__always)
    func matches(_ candidate: String) -> Bool {
        if case .presence = match { return !candidate.isEmpty }
        return candidate.utf8.withContiguousStorageIfAvailable { matches(utf8: $0) } ?? match.matches(candidate)
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
