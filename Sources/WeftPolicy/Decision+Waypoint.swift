// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension Decision {
    /// The status a waypoint answers a denied request with, as Envoy's RBAC filter does: 403.
    public static let deniedHTTPStatus = 403
    /// The body of that answer: `RBAC: access denied` (19 bytes). gRPC clients get `PERMISSION_DENIED`.
    public static let deniedHTTPBody = "RBAC: access denied"

    /// Envoy's `%RESPONSE_CODE_DETAILS%` for a denied request, for access logs:
    /// `rbac_access_denied_matched_policy[ns[<ns>]-policy[<name>]-rule[<index>]]` when a policy denied,
    /// `rbac_access_denied_matched_policy[none]` when ALLOW policies apply but none matched (spaces become
    /// `_`, as in Envoy); `nil` when the request is allowed.
    public var responseCodeDetails: String? {
        switch cause {
        case .deniedByPolicy(let policy, let rule):
            let id = "ns[\(policy.namespace)]-policy[\(policy.name)]-rule[\(rule)]"
            return "rbac_access_denied_matched_policy[\(id.replacingSpaces)]"
        case .noAllowPolicyMatched:
            return "rbac_access_denied_matched_policy[none]"
        case .noAllowPolicy, .allowedByPolicy:
            return nil
        }
    }
}

extension String {
    /// The string with every space replaced by `_`.
    fileprivate var replacingSpaces: String {
        String(decoding: utf8.map { $0 == UInt8(ascii: " ") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    }
}
