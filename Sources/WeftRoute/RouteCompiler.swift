// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Checks one HTTPRoute and compiles it into match entries, collecting every problem with its field.
///
/// The checks are those Gateway API's CRD validation makes (so manifests that bypassed the API server
/// get the same answer) plus what only compiling reveals, such as a malformed regular expression.
struct RouteCompiler {
    let route: HTTPRouteSpec
    let reference: RouteReference
    private(set) var errors: [RouteCompileError] = []

    init(route: HTTPRouteSpec) {
        self.route = route
        self.reference = route.reference
    }

    /// The route's entries, or none if any problem was found (see ``errors``).
    mutating func compile(resolveBackend: (RouteBackend) -> BackendStatus) -> [MatchEntry] {
        let hostnames = compileHostnames()
        var entries: [MatchEntry] = []
        for (ruleIndex, rule) in route.rules.enumerated() {
            let field = "rules[\(ruleIndex)]"
            let matches = compileMatches(rule.matches, field: field)
            validateFilters(rule.filters, field: field + ".filters", rule: rule, onBackend: false)
            var backends: [CompiledRule.Backend] = []
            for (backendIndex, backendRef) in rule.backendRefs.enumerated() {
                let backendField = "\(field).backendRefs[\(backendIndex)]"
                if !(0...HTTPBackendRef.maximumWeight).contains(backendRef.weight) {
                    fail(
                        .invalidBackendRef,
                        backendField + ".weight",
                        "\(backendRef.weight) is out of range 0-\(HTTPBackendRef.maximumWeight)"
                    )
                }
                validateFilters(backendRef.filters, field: backendField + ".filters", rule: rule, onBackend: true)
                let target = backendRef.backend.resolved(routeNamespace: route.namespace)
                backends.append(
                    CompiledRule.Backend(
                        target: target,
                        status: resolveBackend(target),
                        filters: backendRef.filters,
                        mirrors: mirrors(in: backendRef.filters, resolveBackend: resolveBackend),
                        unsupportedFilter: Self.firstUnsupported(backendRef.filters)
                    )
                )
            }
            validateTimeouts(rule.timeouts, field: field + ".timeouts")
            validateRetry(rule.retry, field: field + ".retry")
            let compiled = CompiledRule(
                route: reference,
                creationOrder: route.creationOrder,
                index: ruleIndex,
                rule: rule,
                backends: backends,
                mirrors: mirrors(in: rule.filters, resolveBackend: resolveBackend)
            )
            for (hostnameIndex, hostname) in hostnames.enumerated() {
                for match in matches {
                    entries.append(
                        MatchEntry(hostname: hostname, hostnameIndex: hostnameIndex, match: match, rule: compiled)
                    )
                }
            }
        }
        return errors.isEmpty ? entries : []
    }

    mutating func fail(_ code: RouteCompileError.Code, _ field: String, _ message: String) {
        errors.append(RouteCompileError(code: code, route: reference, field: field, message: message))
    }

    // MARK: - Hostnames

    private mutating func compileHostnames() -> [HostnameMatcher] {
        guard !route.hostnames.isEmpty else { return [.any] }
        var result: [HostnameMatcher] = []
        for (index, hostname) in route.hostnames.enumerated() {
            let field = "hostnames[\(index)]"
            let name = ASCII.lowercased(hostname)
            if name.isEmpty {
                fail(.invalidHostname, field, "must not be empty")
            } else if IPAddress(name) != nil {
                fail(.invalidHostname, field, "\"\(hostname)\" is an IP address; hostnames must be DNS names")
            } else if name.hasPrefix("*.") {
                let suffix = String(name.dropFirst())
                if suffix.contains("*") || suffix.count < 2 {
                    fail(
                        .invalidHostname,
                        field,
                        "\"\(hostname)\": a wildcard must be the whole first label, as in \"*.example.com\""
                    )
                } else {
                    result.append(.wildcard(suffix: Array(suffix.utf8)))
                }
            } else if name.contains("*") || name.contains(":") || name.contains("/") {
                fail(
                    .invalidHostname,
                    field,
                    "\"\(hostname)\" is not a hostname (no port, path, or wildcard other than a leading \"*.\")"
                )
            } else {
                result.append(.exact(Array(name.utf8)))
            }
        }
        return result
    }

    // MARK: - Matches

    private mutating func compileMatches(_ matches: [HTTPRouteMatch], field: String) -> [CompiledMatch] {
        guard !matches.isEmpty else {
            return [
                CompiledMatch(
                    index: nil,
                    path: .prefix(trimmed: []),
                    pathLength: 1,
                    matchedPrefix: "/",
                    method: nil,
                    headers: [],
                    queryParams: []
                )
            ]
        }
        var result: [CompiledMatch] = []
        for (matchIndex, match) in matches.enumerated() {
            let matchField = "\(field).matches[\(matchIndex)]"
            let path: PathMatcher?
            var matchedPrefix: String?
            switch match.path {
            case .exact(let value):
                path = validatePath(value, field: matchField + ".path.value") ? .exact(Array(value.utf8)) : nil
            case .pathPrefix(let value):
                matchedPrefix = value
                let trimmed = HTTPRouteFilter.PathModifier.trimmingTrailingSlashes(value)
                path =
                    validatePath(value, field: matchField + ".path.value") ? .prefix(trimmed: Array(trimmed.utf8)) : nil
            case .regularExpression(let value):
                path = compileRegex(value, field: matchField + ".path.value").map { .regex($0) }
            }
            var headers: [CompiledMatch.Header] = []
            for (index, header) in match.headers.enumerated() {
                let headerField = "\(matchField).headers[\(index)]"
                let name = ASCII.lowercased(header.name)
                guard validateHeaderName(header.name, field: headerField + ".name") else { continue }
                // Gateway API: when two entries name the same header, only the first counts.
                if headers.contains(where: { $0.name == name }) { continue }
                if let value = compileValue(header.type, header.value, field: headerField + ".value") {
                    headers.append(CompiledMatch.Header(lowercasedName: Array(name.utf8), name: name, value: value))
                }
            }
            var queryParams: [CompiledMatch.QueryParam] = []
            for (index, param) in match.queryParams.enumerated() {
                let paramField = "\(matchField).queryParams[\(index)]"
                if param.name.isEmpty {
                    fail(.invalidQueryParam, paramField + ".name", "must not be empty")
                    continue
                }
                if queryParams.contains(where: { $0.nameString == param.name }) { continue }
                if let value = compileValue(param.type, param.value, field: paramField + ".value") {
                    queryParams.append(
                        CompiledMatch.QueryParam(name: Array(param.name.utf8), nameString: param.name, value: value)
                    )
                }
            }
            guard let path else { continue }
            result.append(
                CompiledMatch(
                    index: matchIndex,
                    path: path,
                    pathLength: match.path.value.utf8.count,
                    matchedPrefix: matchedPrefix,
                    method: match.method.map { Array($0.rawValue.utf8) },
                    headers: headers,
                    queryParams: queryParams
                )
            )
        }
        return result
    }

    private mutating func compileValue(
        _ type: HTTPRouteMatch.ValueMatchType,
        _ value: String,
        field: String
    ) -> ValueMatcher? {
        switch type {
        case .exact: return .exact(Array(value.utf8))
        case .regularExpression: return compileRegex(value, field: field).map { .regex($0) }
        }
    }

    private mutating func compileRegex(_ pattern: String, field: String) -> CompiledRegex? {
        do {
            return try CompiledRegex(pattern)
        } catch {
            fail(.invalidRegularExpression, field, "invalid regular expression \"\(pattern)\": \(error)")
            return nil
        }
    }

    /// Gateway API's rules for `Exact` and `PathPrefix` values.
    private mutating func validatePath(_ value: String, field: String) -> Bool {
        guard value.hasPrefix("/") else {
            fail(.invalidPath, field, "\"\(value)\" must start with \"/\"")
            return false
        }
        for forbidden in ["//", "/./", "/../", "%2f", "%2F", "#"] where value.contains(forbidden) {
            fail(.invalidPath, field, "\"\(value)\" must not contain \"\(forbidden)\"")
            return false
        }
        for forbidden in ["/..", "/."] where value.hasSuffix(forbidden) {
            fail(.invalidPath, field, "\"\(value)\" must not end with \"\(forbidden)\"")
            return false
        }
        if let bad = Self.firstInvalidPathCharacter(value) {
            fail(
                .invalidPath,
                field,
                "\"\(value)\" contains \"\(bad)\", which is not allowed in a path; percent-encode it (%XX)"
            )
            return false
        }
        return true
    }

    /// The first character outside `[-A-Za-z0-9/._~!$&'()*+,;=:@]`, or a `%` not followed by two hex
    /// digits.
    static func firstInvalidPathCharacter(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2]) else {
                    return "%"
                }
                index += 3
                continue
            }
            let isAlphanumeric = (byte | 0x20) &- 0x61 < 26 || byte &- 0x30 < 10
            if !isAlphanumeric, !"-/._~!$&'()*+,;=:@".utf8.contains(byte) {
                return String(value.unicodeScalars.first { !$0.isASCII || $0.value == UInt32(byte) } ?? "?")
            }
            index += 1
        }
        return nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10 || (byte | 0x20) &- 0x61 < 6
    }

    /// An RFC 9110 token; pseudo-headers (`:method`) fail because `:` is not a token character.
    mutating func validateHeaderName(_ name: String, field: String) -> Bool {
        if name.isEmpty {
            fail(.invalidHeaderName, field, "must not be empty")
            return false
        }
        if name.hasPrefix(":") {
            fail(
                .invalidHeaderName,
                field,
                "\"\(name)\" is an HTTP/2 pseudo-header; those cannot be matched or modified"
            )
            return false
        }
        let allowed = "!#$%&'*+-.^_`|~".utf8
        for byte in name.utf8 {
            let isAlphanumeric = (byte | 0x20) &- 0x61 < 26 || byte &- 0x30 < 10
            if !isAlphanumeric, !allowed.contains(byte) {
                fail(.invalidHeaderName, field, "\"\(name)\" is not a valid header name")
                return false
            }
        }
        return true
    }
}
