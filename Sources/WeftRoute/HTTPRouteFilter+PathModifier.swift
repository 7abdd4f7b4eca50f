// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension HTTPRouteFilter {
    /// Gateway API's `HTTPPathModifier`, used by redirects and rewrites.
    public enum PathModifier: Hashable, Sendable {
        /// `ReplaceFullPath`: the path becomes this value (the query string is kept).
        case replaceFullPath(String)
        /// `ReplacePrefixMatch`: the part of the path matched by the rule's `PathPrefix` is replaced by
        /// this value, on segment boundaries. Requires a rule with exactly one `PathPrefix` match.
        case replacePrefixMatch(String)

        /// The Gateway API type name.
        public var typeName: String {
            switch self {
            case .replaceFullPath: return "ReplaceFullPath"
            case .replacePrefixMatch: return "ReplacePrefixMatch"
            }
        }

        /// The new path for `path` (without query string).
        ///
        /// `ReplacePrefixMatch` follows the Gateway API table: trailing slashes of the prefix and of the
        /// replacement are ignored, the rest of the path is kept from the segment boundary, and an empty
        /// result becomes `/`. With prefix `/foo`: replacement `/xyz` turns `/foo/bar` into `/xyz/bar`,
        /// `/foo` into `/xyz` and `/foo/` into `/xyz/`; replacement `/` (or empty) turns `/foo/bar` into
        /// `/bar` and `/foo` into `/`.
        ///
        /// - Parameters:
        ///   - path: The request path, without the query string.
        ///   - matchedPrefix: The `PathPrefix` value that selected the rule (``RouteSelection`` carries
        ///     it); `nil` is treated as `/`.
        public func apply(to path: Substring, matchedPrefix: String?) -> String {
            switch self {
            case .replaceFullPath(let value):
                return value
            case .replacePrefixMatch(let replacement):
                let prefix = Self.trimmingTrailingSlashes(matchedPrefix ?? "/")
                guard PathMatcher.hasSegmentPrefix(path, trimmedPrefix: prefix) else { return String(path) }
                let rest = path.utf8.dropFirst(prefix.utf8.count)
                var result = String(Self.trimmingTrailingSlashes(replacement))
                result += Substring(rest)
                if result.isEmpty { return "/" }
                return result.utf8.first == ASCII.slash ? result : "/" + result
            }
        }

        static func trimmingTrailingSlashes(_ value: String) -> Substring {
            var end = value.utf8.endIndex
            while end > value.utf8.startIndex, value.utf8[value.utf8.index(before: end)] == ASCII.slash {
                end = value.utf8.index(before: end)
            }
            return value[..<end]
        }
    }
}
