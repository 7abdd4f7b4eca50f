// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Istio's `HTTPMatchRequest`, the fields the waypoint reads. All the fields of one match must hold (AND);
/// the matches of a rule are alternatives (OR).
public struct VirtualServiceMatch: Hashable, Sendable {
    /// A header or query parameter condition: the name and how its value must match; `nil` only checks
    /// that the header is present (Istio: an empty `StringMatch`).
    public struct NamedMatch: Hashable, Sendable {
        /// The header name (lower case) or the query parameter name (exact).
        public var name: String
        /// How the value must match; `nil` for a presence check.
        public var match: IstioStringMatch?

        /// Creates a condition.
        public init(_ name: String, _ match: IstioStringMatch?) {
            self.name = name
            self.match = match
        }
    }

    /// `name`, reported in selections and access logs.
    public var name: String?
    /// `uri`: the path without the query string.
    public var uri: IstioStringMatch?
    /// `ignoreUriCase`: `exact` and `prefix` URI matches ignore ASCII case.
    public var ignoreUriCase: Bool
    /// `method`.
    public var method: IstioStringMatch?
    /// `headers`, in manifest order. Several values of one header are joined with `,` before matching.
    public var headers: [NamedMatch]
    /// `queryParams`, in manifest order. `?key` without a value has the value `""`.
    public var queryParams: [NamedMatch]

    /// Creates a match; with no arguments it matches every request.
    public init(
        name: String? = nil,
        uri: IstioStringMatch? = nil,
        ignoreUriCase: Bool = false,
        method: IstioStringMatch? = nil,
        headers: [NamedMatch] = [],
        queryParams: [NamedMatch] = []
    ) {
        self.name = name
        self.uri = uri
        self.ignoreUriCase = ignoreUriCase
        self.method = method
        self.headers = headers
        self.queryParams = queryParams
    }

    /// The field path of a header or query parameter entry: `base.name`, or `base["name"]` when the name
    /// has characters other than letters, digits, `-` and `_` (the manifest reader's convention).
    static func keyPath(_ base: String, _ key: String) -> String {
        let simple = !key.isEmpty
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        return simple ? "\(base).\(key)" : "\(base)[\"\(key)\"]"
    }
}
