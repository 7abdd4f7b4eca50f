// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Which rule answered a request and through which match: the deterministic half of routing, before
/// any backend is drawn.
public struct RouteMatch: Hashable, Sendable, CustomStringConvertible {
    /// The route.
    public var route: RouteReference
    /// The rule's index in `spec.rules`.
    public var ruleIndex: Int
    /// The rule's `name`, if set.
    public var ruleName: String?
    /// The index in the rule's `matches`; `nil` when the rule has none (implicit `PathPrefix /`).
    public var matchIndex: Int?
    /// The `PathPrefix` value that matched, as configured; `nil` for Exact or regex matches. Needed by
    /// `ReplacePrefixMatch` rewrites and redirects.
    public var matchedPathPrefix: String?

    /// Creates a match description.
    public init(
        route: RouteReference,
        ruleIndex: Int,
        ruleName: String? = nil,
        matchIndex: Int?,
        matchedPathPrefix: String?
    ) {
        self.route = route
        self.ruleIndex = ruleIndex
        self.ruleName = ruleName
        self.matchIndex = matchIndex
        self.matchedPathPrefix = matchedPathPrefix
    }

    /// `namespace/name rules[i].matches[j]`, the route name Envoy would log.
    public var description: String {
        "\(route.key) rules[\(ruleIndex)]" + (matchIndex.map { ".matches[\($0)]" } ?? "")
    }
}
