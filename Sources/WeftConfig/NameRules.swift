// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Light validation of the names Weft depends on, with operator-facing messages.
enum NameRules {
    /// Whether `text` is an RFC 1123 DNS label: 1–63 lowercase letters, digits and `-`, starting and
    /// ending with a letter or digit. Kubernetes namespaces must be one.
    static func isRFC1123Label(_ text: String) -> Bool {
        let isAlphanumeric: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        guard let first = text.first, let last = text.last, text.count <= 63 else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last) && text.allSatisfy { isAlphanumeric($0) || $0 == "-" }
    }

    /// The message for a name that is not an RFC 1123 label.
    static func rfc1123Message(_ text: String, what: String) -> String {
        "\(what) \"\(text)\" is not a valid RFC 1123 label; use at most 63 lowercase letters, digits and '-', "
            + "starting and ending with a letter or digit"
    }

    /// Whether a service account name can appear in a SPIFFE ID (`[A-Za-z0-9-._]+`).
    static func isValidServiceAccount(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }
    }

    /// The message for a service account name that cannot be part of an identity.
    static func serviceAccountMessage(_ text: String) -> String {
        "service account \"\(text)\" has characters outside [A-Za-z0-9-._], so it cannot form a SPIFFE identity; "
            + "use a valid Kubernetes service account name"
    }
}
