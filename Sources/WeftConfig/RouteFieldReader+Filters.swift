// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// `filters` of a rule or of a backend reference. The schema's rules are checked here (the settings
/// field must match `type`, the route kind must allow the type, required fields); the rules that span
/// filters (repetition, redirect with rewrite or with backends, `ReplacePrefixMatch` preconditions, value
/// ranges) are WeftRoute's compiler's. A filter the waypoint cannot apply is a warning, and the rule (or
/// the backend) answers HTTP 500, as Gateway API requires instead of skipping it.
extension RouteFieldReader {
    /// Each filter type with its settings field.
    static let filterFields: [(type: String, field: String)] = [
        ("RequestHeaderModifier", "requestHeaderModifier"), ("ResponseHeaderModifier", "responseHeaderModifier"),
        ("RequestRedirect", "requestRedirect"), ("URLRewrite", "urlRewrite"), ("RequestMirror", "requestMirror"),
        ("CORS", "cors"), ("ExternalAuth", "externalAuth"), ("ExtensionRef", "extensionRef"),
    ]
    /// The filter types a GRPCRoute allows.
    static let grpcFilterTypes: Set<String> = [
        "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "ExtensionRef",
    ]
    /// Types Gateway API defines that the waypoint cannot apply.
    static let unsupportedFilterTypes: Set<String> = ["CORS", "ExternalAuth", "ExtensionRef"]

    /// `parent.filters` (at most 16).
    ///
    /// - Parameters:
    ///   - parent: The rule or the backend reference.
    ///   - modelPath: The parent's model path (`rules[0]`, `rules[0].backendRefs[1]`).
    ///   - onBackend: Whether these are a backend reference's filters (for the 500 warning's wording).
    mutating func filters(_ parent: YAMLField, modelPath: String, onBackend: Bool) -> [HTTPRouteFilter] {
        var result: [HTTPRouteFilter] = []
        for item in items(parent, "filters", max: 16) where reader.isMapping(item) {
            let filterPath = "\(modelPath).filters[\(result.count)]"
            guard let filter = filter(item, modelPath: filterPath, onBackend: onBackend) else { continue }
            note(filterPath, item)
            result.append(filter)
        }
        return result
    }

    private mutating func filter(_ item: YAMLField, modelPath: String, onBackend: Bool) -> HTTPRouteFilter? {
        reader.warnUnknownKeys(item, known: ["type"] + Self.filterFields.map(\.field))
        guard let type = reader.requiredString(item, "type", "give the filter type, e.g. RequestHeaderModifier") else {
            return nil
        }
        let typeField = item.child("type") ?? item
        let consequence = onBackend ? "requests sent to this backend" : "requests matching this rule"
        guard let settingsKey = Self.filterFields.first(where: { $0.type == type })?.field else {
            let known = Self.filterFields.map(\.type).joined(separator: ", ")
            reader.warning(
                "unknown filter type \"\(type)\" (Gateway API defines \(known)); the waypoint cannot apply it, so "
                    + "\(consequence) get HTTP 500", at: typeField)
            return .unsupported(type: type)
        }
        for (otherType, key) in Self.filterFields where key != settingsKey {
            if let field = item.child(key) {
                reader.error("\(key) is only allowed with type \(otherType); remove it or change type", at: field)
            }
        }
        if route.kind == .grpc, !Self.grpcFilterTypes.contains(type) {
            let allowed = Self.grpcFilterTypes.sorted().joined(separator: ", ")
            reader.error("\(type) is not allowed in a GRPCRoute; use one of \(allowed)", at: typeField)
            return nil
        }
        if Self.unsupportedFilterTypes.contains(type) {
            reader.warning(
                "\(type) is not supported by Weft's waypoint; Gateway API forbids skipping a filter, so "
                    + "\(consequence) get HTTP 500", at: typeField)
            return .unsupported(type: type)
        }
        guard let settings = item.child(settingsKey) else {
            reader.missing(settingsKey, in: item, "a \(type) filter needs its settings in \(settingsKey)")
            return nil
        }
        guard reader.isMapping(settings) else { return nil }
        let settingsPath = "\(modelPath).\(settingsKey)"
        switch type {
        case "RequestHeaderModifier":
            return .requestHeaderModifier(headerModifier(settings, modelPath: settingsPath))
        case "ResponseHeaderModifier":
            return .responseHeaderModifier(headerModifier(settings, modelPath: settingsPath))
        case "RequestRedirect":
            return .requestRedirect(redirect(settings))
        case "URLRewrite":
            return .urlRewrite(rewrite(settings))
        default:
            return mirror(settings).map(HTTPRouteFilter.requestMirror)
        }
    }

    // MARK: - Settings

    // Each settings reader keeps what is valid and leaves out what is in error (reported; the error withholds
    // the snapshot), so that the compiler still checks the rest.

    /// `HTTPHeaderFilter`: `set` and `add` (`{name, value}`, at most 16 each) and `remove` (names, at most 16).
    private mutating func headerModifier(_ settings: YAMLField, modelPath: String) -> HTTPRouteFilter.HeaderModifier {
        reader.warnUnknownKeys(settings, known: ["set", "add", "remove"])
        func fields(_ key: String) -> [HTTPHeaderField] {
            var result: [HTTPHeaderField] = []
            for item in items(settings, key, max: 16) where reader.isMapping(item) {
                reader.warnUnknownKeys(item, known: ["name", "value"])
                let name = reader.requiredString(item, "name", "name the header")
                let value = requiredValue(item)
                guard let name, let value else { continue }
                note("\(modelPath).\(key)[\(result.count)]", item)
                result.append(HTTPHeaderField(name, value))
            }
            return result
        }
        let set = fields("set")
        let add = fields("add")
        var remove: [String] = []
        for item in items(settings, "remove", max: 16) {
            guard let name = reader.string(item) else { continue }
            note("\(modelPath).remove[\(remove.count)]", item)
            remove.append(name)
        }
        return HTTPRouteFilter.HeaderModifier(set: set, add: add, remove: remove)
    }

    /// `HTTPRequestRedirectFilter`: `scheme`, `hostname`, `path`, `port`, `statusCode` (302 by default).
    private func redirect(_ settings: YAMLField) -> HTTPRouteFilter.RequestRedirect {
        reader.warnUnknownKeys(settings, known: ["scheme", "hostname", "path", "port", "statusCode"])
        var redirect = HTTPRouteFilter.RequestRedirect()
        redirect.scheme = ServiceEntryTranslator
            .checkEnum(settings, "scheme", allowed: ["http", "https"], reader: reader)
            .flatMap(HTTPRouteFilter.RequestRedirect.Scheme.init(rawValue:))
        redirect.hostname = settings.child("hostname").flatMap(reader.string)
        redirect.path = settings.child("path").flatMap(pathModifier)
        redirect.port = settings.child("port").flatMap(reader.port)
        if let code = settings.child("statusCode").flatMap(int32) { redirect.statusCode = code }
        return redirect
    }

    /// `HTTPURLRewriteFilter`: `hostname` and `path`.
    private func rewrite(_ settings: YAMLField) -> HTTPRouteFilter.URLRewrite {
        reader.warnUnknownKeys(settings, known: ["hostname", "path"])
        return HTTPRouteFilter.URLRewrite(
            hostname: settings.child("hostname").flatMap(reader.string),
            path: settings.child("path").flatMap(pathModifier))
    }

    /// `HTTPPathModifier`: `type` and the field it names, which must be set (and the other not).
    private func pathModifier(_ field: YAMLField) -> HTTPRouteFilter.PathModifier? {
        guard reader.isMapping(field) else { return nil }
        reader.warnUnknownKeys(field, known: ["type", "replaceFullPath", "replacePrefixMatch"])
        let types = ["ReplaceFullPath", "ReplacePrefixMatch"]
        guard field.child("type") != nil else {
            reader.missing("type", in: field, "use ReplaceFullPath or ReplacePrefixMatch")
            return nil
        }
        guard let type = ServiceEntryTranslator.checkEnum(field, "type", allowed: types, reader: reader) else {
            return nil
        }
        let key = type == "ReplaceFullPath" ? "replaceFullPath" : "replacePrefixMatch"
        let otherKey = type == "ReplaceFullPath" ? "replacePrefixMatch" : "replaceFullPath"
        if let other = field.child(otherKey) {
            reader.error("\(otherKey) must not be set when type is \(type)", at: other)
            return nil
        }
        guard let valueField = field.child(key) else {
            reader.missing(key, in: field, "type \(type) needs \(key)")
            return nil
        }
        guard let value = reader.string(valueField) else { return nil }
        return type == "ReplaceFullPath" ? .replaceFullPath(value) : .replacePrefixMatch(value)
    }

    /// `HTTPRequestMirrorFilter`: `backendRef` (required) and one of `percent` and `fraction`.
    private func mirror(_ settings: YAMLField) -> HTTPRouteFilter.RequestMirror? {
        reader.warnUnknownKeys(settings, known: ["backendRef", "percent", "fraction"])
        guard let backendField = settings.child("backendRef") else {
            reader.missing("backendRef", in: settings, "name the Service to mirror requests to")
            return nil
        }
        guard reader.isMapping(backendField) else { return nil }
        reader.warnUnknownKeys(backendField, known: ["group", "kind", "name", "namespace", "port"])
        let backend = backendObject(backendField)
        var portion = HTTPRouteFilter.RequestMirror.Portion.all
        if settings.child("percent") != nil, let fraction = settings.child("fraction") {
            reader.error("only one of percent and fraction may be set", at: fraction)
        } else if let field = settings.child("percent") {
            if let value = int32(field) { portion = .percent(value) }
        } else if let field = settings.child("fraction"), reader.isMapping(field) {
            reader.warnUnknownKeys(field, known: ["numerator", "denominator"])
            var numerator: Int?
            if let numeratorField = field.child("numerator") {
                numerator = int32(numeratorField)
            } else {
                reader.missing("numerator", in: field, "give the share of requests to mirror, as numerator/denominator")
            }
            let denominator = field.child("denominator").map(int32) ?? 100
            if let numerator, let denominator { portion = .fraction(numerator: numerator, denominator: denominator) }
        }
        return backend.map { HTTPRouteFilter.RequestMirror(backend: $0, portion: portion) }
    }
}
