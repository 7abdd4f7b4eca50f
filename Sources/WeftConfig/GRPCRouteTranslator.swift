// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Translates a Gateway API `GRPCRoute` (`gateway.networking.k8s.io/v1`) into an ``HTTPRouteSpec`` whose
/// method matches are path matches (``GRPCMethodMatch``); the snapshot keeps GRPCRoutes apart from
/// HTTPRoutes, as Gateway API never merges them.
///
/// Reads `spec.parentRefs`, `spec.hostnames` and `spec.rules[]`: `name`, `matches[]`
/// (`method {type, service, method}` and `headers`), `filters` (`RequestHeaderModifier`,
/// `ResponseHeaderModifier`, `RequestMirror`, `ExtensionRef`) and `backendRefs`. The schema's checks are
/// errors here: a method match sets `service`, `method` or both; with `Exact` they must be a protobuf
/// service name (`package.Service`) and method name; with `RegularExpression` they must compile (checked
/// with WeftRoute's compiler).
enum GRPCRouteTranslator {
    static let kind = "GRPCRoute"
    static let versions = ["gateway.networking.k8s.io/v1"]

    static func translate(_ root: YAMLField, apiVersion: String, reader: inout ObjectReader) -> TranslatedObject? {
        RouteFieldReader.translate(root, apiVersion: apiVersion, kind: kind, versions: versions, as: .grpc, reader: &reader) {
            fields, specField in
            var rules: [HTTPRouteRule] = []
            for item in fields.items(specField, "rules", max: 16) where fields.reader.isMapping(item) {
                let modelPath = "rules[\(rules.count)]"
                fields.note(modelPath, item)
                rules.append(fields.grpcRule(item, modelPath: modelPath))
            }
            return rules
        }
    }

    /// The compiler's message for a regular expression that does not compile, or `nil`. Asks a one-route
    /// ``RouteTable`` so the dialect and the wording are exactly WeftRoute's.
    static func regularExpressionError(_ pattern: String) -> String? {
        let parent = RouteParent(namespace: "check", name: "check", port: 1)
        let match = HTTPRouteMatch(headers: [.init(.regularExpression, name: "check", value: pattern)])
        let route = HTTPRouteSpec(
            namespace: "check", name: "check", parentRefs: [.init(namespace: "check", name: "check")],
            rules: [HTTPRouteRule(matches: [match])])
        return RouteTable(parent: parent, routes: [route]).errors.first?.message
    }

    /// Whether `text` is a protobuf service name: dot-separated identifiers, optionally with a leading dot
    /// (the schema's `^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`).
    static func isServiceName(_ text: String) -> Bool {
        let body = text.hasPrefix(".") ? text.dropFirst() : Substring(text)
        return !body.isEmpty && body.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isIdentifier)
    }

    /// Whether `text` is an identifier: `[A-Za-z_][A-Za-z_0-9]*`.
    static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

extension RouteFieldReader {
    /// One entry of a GRPCRoute's `spec.rules`.
    mutating func grpcRule(_ item: YAMLField, modelPath: String) -> HTTPRouteRule {
        reader.warnUnknownKeys(item, known: ["name", "matches", "filters", "backendRefs", "sessionPersistence"])
        var rule = HTTPRouteRule()
        rule.name = item.child("name").flatMap(reader.string)
        for match in items(item, "matches", max: 64) where reader.isMapping(match) {
            reader.warnUnknownKeys(match, known: ["method", "headers"])
            let matchPath = "\(modelPath).matches[\(rule.matches.count)]"
            var method: GRPCMethodMatch?
            var valid = true
            if let field = match.child("method") {
                method = grpcMethod(field)
                valid = method != nil
                note(matchPath + ".path.value", field)
            }
            let headers = headerMatches(match, modelPath: matchPath)
            guard valid else { continue }
            note(matchPath, match)
            rule.matches.append(HTTPRouteMatch(grpcMethod: method, headers: headers))
        }
        rule.filters = filters(item, modelPath: modelPath, onBackend: false)
        rule.backendRefs = backendRefs(item, modelPath: modelPath)
        if let field = item.child("sessionPersistence") {
            reader.warning("sessionPersistence is not supported by Weft's waypoint and is ignored", at: field)
        }
        return rule
    }

    /// `GRPCMethodMatch`: `type` (`Exact` by default, or `RegularExpression`), `service`, `method`.
    private func grpcMethod(_ field: YAMLField) -> GRPCMethodMatch? {
        guard reader.isMapping(field) else { return nil }
        reader.warnUnknownKeys(field, known: ["type", "service", "method"])
        guard let typeName = enumValue(field, "type", allowed: ["Exact", "RegularExpression"], default: "Exact"),
            let type = HTTPRouteMatch.ValueMatchType(rawValue: typeName)
        else { return nil }
        let service = field.child("service").flatMap(reader.string).flatMap { $0.isEmpty ? nil : $0 }
        let method = field.child("method").flatMap(reader.string).flatMap { $0.isEmpty ? nil : $0 }
        guard service != nil || method != nil else {
            // A name of the wrong type has been reported already.
            let mistyped = ["service", "method"].contains { field.child($0).map { !$0.node.isStringScalar } ?? false }
            if !mistyped { reader.error("must set service, method or both (package.Service and Method)", at: field) }
            return nil
        }
        var valid = true
        for (key, value) in [("service", service), ("method", method)] {
            guard let value, let valueField = field.child(key) else { continue }
            if type == .regularExpression {
                if let message = GRPCRouteTranslator.regularExpressionError(value) {
                    reader.error(message, at: valueField)
                    valid = false
                }
            } else if key == "service", !GRPCRouteTranslator.isServiceName(value) {
                reader.error(
                    "\"\(value)\" is not a gRPC service name: dot-separated identifiers such as "
                        + "helloworld.Greeter; use type: RegularExpression to match a pattern", at: valueField)
                valid = false
            } else if key == "method", !GRPCRouteTranslator.isIdentifier(Substring(value)) {
                reader.error(
                    "\"\(value)\" is not a gRPC method name (letters, digits and _, not starting with a digit); "
                        + "use type: RegularExpression to match a pattern", at: valueField)
                valid = false
            }
        }
        return valid ? GRPCMethodMatch(type, service: service, method: method) : nil
    }
}
