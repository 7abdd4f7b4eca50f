// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A GRPCRoute `matches[].method` (`{type, service, method}`), expressed as a match on the request path
/// `/<service>/<method>`, which is how gRPC carries it over HTTP/2.
///
/// GRPCRoute precedence ("most characters in the matching service, then in the matching method") is
/// approximated by the HTTPRoute path ranks: both names exact become an `Exact` path (highest), a
/// service alone becomes `PathPrefix /<service>` (ranked by the service's length), and anything else is
/// a `RegularExpression` path (lowest). GRPCRoutes and HTTPRoutes must still go in separate tables:
/// Gateway API never merges them.
public struct GRPCMethodMatch: Hashable, Sendable {
    /// `Exact` (default) or `RegularExpression`, for both names.
    public var type: HTTPRouteMatch.ValueMatchType
    /// The fully-qualified service (`package.Service`); `nil` matches any service.
    public var service: String?
    /// The method name; `nil` matches any method.
    public var method: String?

    /// Creates a method match.
    public init(_ type: HTTPRouteMatch.ValueMatchType = .exact, service: String? = nil, method: String? = nil) {
        self.type = type
        self.service = service
        self.method = method
    }

    /// The equivalent path match. Neither name set matches every request (`PathPrefix /`).
    public var pathMatch: HTTPRouteMatch.PathMatch {
        switch (type, service, method) {
        case (_, nil, nil):
            return .pathPrefix("/")
        case (.exact, let service?, let method?):
            return .exact("/\(service)/\(method)")
        case (.exact, let service?, nil):
            return .pathPrefix("/\(service)")
        case (.exact, nil, let method?):
            return .regularExpression("/[^/]+/" + Self.escaped(method))
        case (.regularExpression, let service, let method):
            return .regularExpression("/(?:\(service ?? "[^/]+"))/(?:\(method ?? "[^/]+"))")
        }
    }

    /// `text` with regular-expression metacharacters escaped, so it matches literally.
    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            if "\\^$.|?*+()[]{}".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

extension HTTPRouteMatch {
    /// A GRPCRoute match: the method as a path match, plus header matches.
    ///
    /// - Parameters:
    ///   - grpcMethod: The `method` of the GRPCRoute match; `nil` matches every gRPC request.
    ///   - headers: The `headers` of the GRPCRoute match.
    public init(grpcMethod: GRPCMethodMatch?, headers: [HeaderMatch] = []) {
        self.init(path: grpcMethod?.pathMatch ?? .pathPrefix("/"), headers: headers)
    }
}
