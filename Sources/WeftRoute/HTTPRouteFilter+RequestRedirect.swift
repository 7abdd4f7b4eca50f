// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension HTTPRouteFilter {
    /// Gateway API's `HTTPRequestRedirectFilter`: the waypoint answers with a redirect and forwards
    /// nothing. Every field left unset keeps the request's value.
    public struct RequestRedirect: Hashable, Sendable {
        /// The schemes a redirect may name.
        public enum Scheme: String, Hashable, Sendable {
            case http
            case https

            /// 80 or 443.
            public var defaultPort: UInt16 { self == .http ? 80 : 443 }
        }

        /// The status codes Gateway API allows (301 and 302 Core; 303, 307, 308 Extended).
        public static let allowedStatusCodes: Set<Int> = [301, 302, 303, 307, 308]

        /// `scheme`; `nil` keeps the request's.
        public var scheme: Scheme?
        /// `hostname`; `nil` keeps the request's host (without its port).
        public var hostname: String?
        /// `path`; `nil` keeps the request's path.
        public var path: PathModifier?
        /// `port`; see ``response(to:matchedPrefix:listenerPort:)`` for the default.
        public var port: UInt16?
        /// `statusCode`, 302 unless set.
        public var statusCode: Int

        /// Creates a redirect.
        public init(
            scheme: Scheme? = nil,
            hostname: String? = nil,
            path: PathModifier? = nil,
            port: UInt16? = nil,
            statusCode: Int = 302
        ) {
            self.scheme = scheme
            self.hostname = hostname
            self.path = path
            self.port = port
            self.statusCode = statusCode
        }

        /// The redirect answer to `request`.
        ///
        /// Port: the configured one; otherwise 80/443 when a scheme is configured; otherwise the
        /// listener port (the Service port). The port is left out of `Location` when it is the scheme's
        /// default (80 with http, 443 with https). The query string is kept.
        ///
        /// - Parameters:
        ///   - request: The request being redirected.
        ///   - matchedPrefix: The `PathPrefix` value that selected the rule, for `ReplacePrefixMatch`.
        ///   - listenerPort: The port the request arrived on (the Service port).
        public func response(to request: RouteRequest, matchedPrefix: String?, listenerPort: UInt16) -> RedirectResponse
        {
            let scheme = self.scheme?.rawValue ?? ASCII.lowercased(request.scheme)
            let port = self.port ?? self.scheme?.defaultPort ?? listenerPort
            let isDefaultPort = (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
            var host = hostname.map { Substring($0) } ?? request.host
            if host.utf8.contains(ASCII.colon), host.utf8.first != ASCII.openBracket {
                host = "[" + host + "]"
            }
            let requestPath = request.pathWithoutQuery
            let newPath = path.map { $0.apply(to: requestPath, matchedPrefix: matchedPrefix) } ?? String(requestPath)
            var location = "\(scheme)://\(host)"
            if !isDefaultPort { location += ":\(port)" }
            location += newPath
            if let query = request.query { location += "?" + query }
            return RedirectResponse(statusCode: statusCode, location: location)
        }
    }
}

/// The answer to a redirected request: a status and a `Location`, no body.
public struct RedirectResponse: Hashable, Sendable, CustomStringConvertible {
    /// 301, 302, 303, 307 or 308.
    public var statusCode: Int
    /// The absolute URL for the `Location` header.
    public var location: String

    /// Creates a redirect response.
    public init(statusCode: Int, location: String) {
        self.statusCode = statusCode
        self.location = location
    }

    /// The response headers to send: `location`.
    public var headers: [HTTPHeaderField] { [HTTPHeaderField("location", location)] }

    /// `302 -> http://host/path`.
    public var description: String { "\(statusCode) -> \(location)" }
}
