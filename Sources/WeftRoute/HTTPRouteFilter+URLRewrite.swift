// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension HTTPRouteFilter {
    /// Gateway API's `HTTPURLRewriteFilter`: changes the host and path the backend sees.
    public struct URLRewrite: Hashable, Sendable {
        /// `hostname`: replaces the authority (and any `Host` header) sent to the backend.
        public var hostname: String?
        /// `path`: rewrites the path; the query string is kept.
        public var path: PathModifier?

        /// Creates a rewrite.
        public init(hostname: String? = nil, path: PathModifier? = nil) {
            self.hostname = hostname
            self.path = path
        }

        /// Rewrites `request` in place.
        ///
        /// - Parameters:
        ///   - request: The request to forward.
        ///   - matchedPrefix: The `PathPrefix` value that selected the rule, for `ReplacePrefixMatch`.
        public func apply(to request: inout RouteRequest, matchedPrefix: String?) {
            if let hostname {
                request.authority = hostname
                for index in request.headers.indices where request.headers[index].hasName("host") {
                    request.headers[index].value = hostname
                }
            }
            if let path {
                let newPath = path.apply(to: request.pathWithoutQuery, matchedPrefix: matchedPrefix)
                if let query = request.query {
                    request.path = newPath + "?" + query
                } else {
                    request.path = newPath
                }
            }
        }
    }
}
