// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Filter, timeout and retry checks: Gateway API's CEL rules for filters (combinations, repetition,
/// `ReplacePrefixMatch` preconditions, value ranges), and mirror target resolution.
extension RouteCompiler {
    /// Filter types Gateway API allows at most once per list.
    private static let oncePerList: Set<String> = [
        "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite",
    ]

    mutating func validateFilters(
        _ filters: [HTTPRouteFilter],
        field: String,
        rule: HTTPRouteRule,
        onBackend: Bool
    ) {
        var firstOfType: [String: Int] = [:]
        var redirectIndex: Int?
        var rewriteIndex: Int?
        for (index, filter) in filters.enumerated() {
            let filterField = "\(field)[\(index)]"
            let settings = filterField + "." + filter.fieldName
            let type = filter.typeName
            if Self.oncePerList.contains(type), let first = firstOfType[type] {
                fail(
                    .invalidFilter,
                    filterField + ".type",
                    "\(type) may appear only once; \(field)[\(first)] is one already"
                )
            }
            firstOfType[type] = firstOfType[type] ?? index
            switch filter {
            case .requestHeaderModifier(let modifier), .responseHeaderModifier(let modifier):
                validateHeaderModifier(modifier, field: settings)
            case .requestRedirect(let redirect):
                redirectIndex = redirectIndex ?? index
                if onBackend {
                    fail(.invalidFilter, filterField + ".type", "RequestRedirect is only allowed in rules[].filters")
                } else if !rule.backendRefs.isEmpty {
                    fail(
                        .invalidFilter,
                        filterField + ".type",
                        "RequestRedirect cannot be used with backendRefs; remove the backendRefs or the redirect"
                    )
                }
                if !HTTPRouteFilter.RequestRedirect.allowedStatusCodes.contains(redirect.statusCode) {
                    fail(
                        .invalidFilter,
                        settings + ".statusCode",
                        "\(redirect.statusCode) is not a redirect status Gateway API allows (301, 302, 303, 307, 308)"
                    )
                }
                if redirect.port == 0 {
                    fail(.invalidFilter, settings + ".port", "0 is not a valid port (1-65535)")
                }
                if let path = redirect.path { validatePathModifier(path, field: settings + ".path", rule: rule) }
            case .urlRewrite(let rewrite):
                rewriteIndex = rewriteIndex ?? index
                if let path = rewrite.path { validatePathModifier(path, field: settings + ".path", rule: rule) }
            case .requestMirror(let mirror):
                validateMirror(mirror, field: settings)
            case .unsupported:
                break
            }
        }
        if let redirectIndex, let rewriteIndex {
            fail(
                .invalidFilter,
                "\(field)[\(max(redirectIndex, rewriteIndex))].type",
                "RequestRedirect and URLRewrite cannot be used together (\(field)[\(min(redirectIndex, rewriteIndex))])"
            )
        }
    }

    private mutating func validateHeaderModifier(_ modifier: HTTPRouteFilter.HeaderModifier, field: String) {
        var seen: [String: String] = [:]
        for (action, index, name) in modifier.touchedNames {
            let nameField = action == "remove" ? "\(field).remove[\(index)]" : "\(field).\(action)[\(index)].name"
            guard validateHeaderName(name, field: nameField) else { continue }
            let key = ASCII.lowercased(name)
            if let previous = seen[key] {
                fail(
                    .invalidFilter,
                    nameField,
                    "header \"\(name)\" already appears in \(previous); "
                        + "a header may appear in only one action of a filter"
                )
            } else {
                seen[key] = action == "remove" ? "remove[\(index)]" : "\(action)[\(index)]"
            }
        }
    }

    private mutating func validatePathModifier(
        _ modifier: HTTPRouteFilter.PathModifier,
        field: String,
        rule: HTTPRouteRule
    ) {
        switch modifier {
        case .replaceFullPath(let value):
            if !value.hasPrefix("/") {
                fail(.invalidFilter, field + ".replaceFullPath", "\"\(value)\" must start with \"/\"")
            }
        case .replacePrefixMatch(let value):
            if !value.isEmpty, !value.hasPrefix("/") {
                fail(.invalidFilter, field + ".replacePrefixMatch", "\"\(value)\" must be empty or start with \"/\"")
            }
            let matchCount = rule.matches.count
            let isSinglePrefix: Bool
            if matchCount == 0 {
                isSinglePrefix = true
            } else if matchCount == 1, case .pathPrefix = rule.matches[0].path {
                isSinglePrefix = true
            } else {
                isSinglePrefix = false
            }
            if !isSinglePrefix {
                let found = matchCount == 1 ? "one \(rule.matches[0].path.typeName) match" : "\(matchCount) matches"
                fail(
                    .invalidFilter,
                    field + ".type",
                    "ReplacePrefixMatch requires the rule to have exactly one match, of type PathPrefix "
                        + "(found \(found))"
                )
            }
        }
    }

    private mutating func validateMirror(_ mirror: HTTPRouteFilter.RequestMirror, field: String) {
        switch mirror.portion {
        case .all:
            break
        case .percent(let percent):
            if !(0...100).contains(percent) {
                fail(.invalidFilter, field + ".percent", "\(percent) is out of range 0-100")
            }
        case .fraction(let numerator, let denominator):
            if denominator < 1 {
                fail(.invalidFilter, field + ".fraction.denominator", "must be at least 1 (got \(denominator))")
            } else if numerator < 0 || numerator > denominator {
                fail(
                    .invalidFilter,
                    field + ".fraction.numerator",
                    "\(numerator) must be between 0 and the denominator (\(denominator))"
                )
            }
        }
    }

    func mirrors(
        in filters: [HTTPRouteFilter],
        resolveBackend: (RouteBackend) -> BackendStatus
    ) -> [CompiledRule.Mirror] {
        filters.compactMap { filter in
            guard case .requestMirror(let mirror) = filter else { return nil }
            let target = mirror.backend.resolved(routeNamespace: route.namespace)
            guard resolveBackend(target) == .valid else { return nil }
            return CompiledRule.Mirror(filter: mirror, target: target)
        }
    }

    static func firstUnsupported(_ filters: [HTTPRouteFilter]) -> String? {
        for filter in filters {
            if case .unsupported(let type) = filter { return type }
        }
        return nil
    }

    // MARK: - Timeouts and retry

    mutating func validateTimeouts(_ timeouts: HTTPRouteRule.Timeouts?, field: String) {
        guard let timeouts else { return }
        if let request = timeouts.request, request < .zero {
            fail(.invalidTimeout, field + ".request", "must not be negative")
        }
        if let backend = timeouts.backendRequest {
            if backend < .zero {
                fail(.invalidTimeout, field + ".backendRequest", "must not be negative")
            } else if let request = timeouts.effectiveRequest, backend > request {
                fail(
                    .invalidTimeout,
                    field + ".backendRequest",
                    "\(Self.format(backend)) exceeds timeouts.request (\(Self.format(request))); "
                        + "one attempt cannot outlast the whole request"
                )
            }
        }
    }

    mutating func validateRetry(_ retry: HTTPRouteRule.Retry?, field: String) {
        guard let retry else { return }
        for (index, code) in retry.codes.enumerated() where !(400...599).contains(code) {
            fail(.invalidRetry, "\(field).codes[\(index)]", "\(code) is out of range 400-599")
        }
        if let attempts = retry.attempts, attempts < 0 {
            fail(.invalidRetry, field + ".attempts", "must not be negative (got \(attempts))")
        }
        if let backoff = retry.backoff, backoff < .zero {
            fail(.invalidRetry, field + ".backoff", "must not be negative")
        }
    }

    /// A duration in Gateway API's notation: whole seconds as `10s`, otherwise milliseconds (`1500ms`).
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
