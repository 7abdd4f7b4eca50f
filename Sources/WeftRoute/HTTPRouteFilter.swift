// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An entry of `filters[]` on a rule or on a backend reference.
///
/// The filter types live in extensions, one per file: ``HeaderModifier``, ``RequestRedirect``,
/// ``URLRewrite``, ``RequestMirror`` and ``PathModifier``. Each exposes its effect as a pure function
/// over plain values; ``RouteSelection`` applies a selected rule's filters in order.
public enum HTTPRouteFilter: Hashable, Sendable {
    /// `RequestHeaderModifier` (Core): edits the headers sent to the backend.
    case requestHeaderModifier(HeaderModifier)
    /// `ResponseHeaderModifier` (Extended): edits the headers returned to the client.
    case responseHeaderModifier(HeaderModifier)
    /// `RequestRedirect` (Core): answer with a redirect instead of forwarding.
    case requestRedirect(RequestRedirect)
    /// `URLRewrite` (Extended): rewrite the host and path sent to the backend.
    case urlRewrite(URLRewrite)
    /// `RequestMirror` (Extended): also send a copy of the request elsewhere; its response is ignored.
    case requestMirror(RequestMirror)
    /// A filter the waypoint cannot apply (`ExtensionRef`, `ExternalAuth`, `CORS`, …), with its type
    /// name. Gateway API forbids skipping such filters silently, so a rule that has one answers 500.
    case unsupported(type: String)

    /// The Gateway API `type` value, such as `RequestHeaderModifier`.
    public var typeName: String {
        switch self {
        case .requestHeaderModifier: return "RequestHeaderModifier"
        case .responseHeaderModifier: return "ResponseHeaderModifier"
        case .requestRedirect: return "RequestRedirect"
        case .urlRewrite: return "URLRewrite"
        case .requestMirror: return "RequestMirror"
        case .unsupported(let type): return type
        }
    }

    /// The field holding the filter's settings, for diagnostics (`requestHeaderModifier`, …).
    var fieldName: String {
        switch self {
        case .requestHeaderModifier: return "requestHeaderModifier"
        case .responseHeaderModifier: return "responseHeaderModifier"
        case .requestRedirect: return "requestRedirect"
        case .urlRewrite: return "urlRewrite"
        case .requestMirror: return "requestMirror"
        case .unsupported: return "type"
        }
    }
}
