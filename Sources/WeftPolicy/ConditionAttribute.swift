// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The attribute a `when` condition tests, parsed from its `key` with Istio's rules
/// (istio/istio `pkg/config/security`), and whether the node can test it.
///
/// ztunnel enforces exactly `source.ip`, `source.namespace`, `source.principal`, `destination.ip` and
/// `destination.port`; every other key (headers, JWT claims, `remote.ip`, `connection.sni`,
/// `source.serviceAccount`, …) needs a waypoint.
public enum ConditionAttribute: Hashable, Sendable {
    case sourceIP
    case remoteIP
    case sourceNamespace
    case sourceServiceAccount
    case sourceTrustDomain
    case sourcePrincipal
    case requestHeader(String)
    case requestInlineHeader(String)
    case requestAuthPrincipal
    case requestAuthAudiences
    case requestAuthPresenter
    case requestAuthClaim(String)
    case destinationIP
    case destinationPort
    case connectionSNI
    case experimental(String)

    /// Why a `when` key is not accepted.
    public struct KeyError: Error, Hashable, Sendable, CustomStringConvertible {
        /// An operator-facing explanation, with what to write instead when there is one.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// The keys the node enforces, in the order messages list them.
    public static let nodeKeys = [
        "source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port",
    ]

    /// Parses a `when` key.
    ///
    /// - Throws: ``KeyError`` for unknown keys, map keys without a `[name]`, and the keys Istio replaced
    ///   (`destination.namespace`, `destination.labels[…]`, `destination.name`, `destination.user`).
    public init(key: String) throws(KeyError) {
        switch key {
        case "source.ip": self = .sourceIP
        case "remote.ip": self = .remoteIP
        case "source.namespace": self = .sourceNamespace
        case "source.serviceAccount": self = .sourceServiceAccount
        case "source.trustDomain": self = .sourceTrustDomain
        case "source.principal": self = .sourcePrincipal
        case "request.auth.principal": self = .requestAuthPrincipal
        case "request.auth.audiences": self = .requestAuthAudiences
        case "request.auth.presenter": self = .requestAuthPresenter
        case "destination.ip": self = .destinationIP
        case "destination.port": self = .destinationPort
        case "connection.sni": self = .connectionSNI
        case "destination.namespace":
            throw KeyError(
                message: "key \(key) is not supported; the policy's own metadata.namespace selects the destination "
                    + "namespace")
        case "destination.name", "destination.user":
            throw KeyError(
                message: "key \(key) was removed after security.istio.io/v1alpha1; use spec.selector or "
                    + "spec.targetRefs to choose the destination")
        default:
            if key.hasPrefix("request.experimental.inline.headers") {
                self = .requestInlineHeader(try Self.mapKey(key, prefix: "request.experimental.inline.headers"))
            } else if key.hasPrefix("request.headers") {
                self = .requestHeader(try Self.mapKey(key, prefix: "request.headers"))
            } else if key.hasPrefix("request.auth.claims") {
                self = .requestAuthClaim(try Self.mapKey(key, prefix: "request.auth.claims"))
            } else if key.hasPrefix("experimental.envoy.filters.") {
                self = .experimental(try Self.mapKey(key, prefix: "experimental.envoy.filters."))
            } else if key.hasPrefix("destination.labels") {
                throw KeyError(
                    message: "key \(key) is not supported; use spec.selector.matchLabels to choose workloads by label")
            } else {
                throw KeyError(
                    message: "unknown key \"\(key)\"; use one of source.ip, source.namespace, source.principal, "
                        + "destination.ip, destination.port (enforced at the node), or an HTTP attribute such as "
                        + "request.headers[<name>] (waypoint only)")
            }
        }
    }

    /// The `name` of `prefix[name]` (for nested claims `prefix[a][b]`, `a][b`); for the experimental
    /// prefix, everything after it.
    private static func mapKey(_ key: String, prefix: String) throws(KeyError) -> String {
        let rest = key.dropFirst(prefix.count)
        guard let open = key.firstIndex(of: "["), key.hasSuffix("]"),
            key.distance(from: key.startIndex, to: open) > 0,
            key.distance(from: open, to: key.endIndex) > 2
        else {
            let form = prefix.hasSuffix(".") ? prefix + "<name>[<field>]" : prefix + "[<name>]"
            throw KeyError(message: "key \"\(key)\" must have the form \(form)")
        }
        if prefix.hasSuffix(".") { return String(rest) }
        guard rest.hasPrefix("[") else {
            throw KeyError(message: "key \"\(key)\" must have the form \(prefix)[<name>]")
        }
        return String(rest.dropFirst().dropLast())
    }

    /// Whether ztunnel (and so the node) enforces conditions on this attribute.
    public var isNodeEnforced: Bool {
        switch self {
        case .sourceIP, .sourceNamespace, .sourcePrincipal, .destinationIP, .destinationPort: return true
        default: return false
        }
    }

    /// What the values of this attribute must look like, for validation.
    public enum ValueForm: Sendable {
        /// An IP address or CIDR block.
        case ipBlock
        /// A port number 0…65535.
        case port
        /// `<ns>/<sa>` or `<sa>`, no wildcards.
        case serviceAccount
        /// Any non-empty string (with Istio's `*` forms).
        case string
    }

    /// The form this attribute's values take.
    public var valueForm: ValueForm {
        switch self {
        case .sourceIP, .remoteIP, .destinationIP: return .ipBlock
        case .destinationPort: return .port
        case .sourceServiceAccount: return .serviceAccount
        default: return .string
        }
    }
}
