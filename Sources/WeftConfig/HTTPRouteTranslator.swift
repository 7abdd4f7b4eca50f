// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import WeftModel
import WeftRoute
import Yams

/// Translates a Gateway API `HTTPRoute` (`gateway.networking.k8s.io/v1` or `v1beta1`) into WeftRoute's
/// ``HTTPRouteSpec``.
///
/// Reads `metadata.creationTimestamp` (the precedence tie-break), `spec.parentRefs`, `spec.hostnames` and
/// `spec.rules[]`: `name`, `matches[]` (`path {type, value}`, `headers`, `queryParams`, `method`),
/// `filters`, `backendRefs` (`weight`, `port`, `filters`), `timeouts {request, backendRequest}` and
/// `retry {codes, attempts, backoff}`. Unknown enum values, missing required fields, malformed durations
/// and lists over the API's limits are errors here; what only compiling reveals (regular expressions,
/// path syntax, weights and codes out of range, filter combinations) is reported by ``SnapshotAssembler``
/// from WeftRoute's compiler. `sessionPersistence` is ignored with a warning.
enum HTTPRouteTranslator {
    static let kind = "HTTPRoute"
    static let versions = ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]
    static let pathTypes = ["Exact", "PathPrefix", "RegularExpression"]
    static let ruleKeys = ["name", "matches", "filters", "backendRefs", "timeouts", "retry", "sessionPersistence"]

    static func translate(_ root: YAMLField, apiVersion: String, reader: inout ObjectReader) -> TranslatedObject? {
        RouteFieldReader.translate(root, apiVersion: apiVersion, kind: kind, versions: versions, as: .http, reader: &reader) {
            fields, specField in
            let reader = fields.reader
            let items = fields.items(specField, "rules", max: 16)
            var rules: [HTTPRouteRule] = []
            for item in items where reader.isMapping(item) {
                let modelPath = "rules[\(rules.count)]"
                let rule = fields.rule(item, modelPath: modelPath)
                fields.note(modelPath, item)
                rules.append(rule)
            }
            let matchCount = items.reduce(0) { $0 + reader.sequence($1, "matches").count }
            if matchCount > 128, let field = specField.child("rules") {
                reader.error("has \(matchCount) matches in all; Gateway API allows at most 128 per route", at: field)
            }
            return rules
        }
    }
}

extension RouteFieldReader {
    /// What HTTPRoute and GRPCRoute share: metadata, the apiVersion check, `creationTimestamp`, `parentRefs`,
    /// `hostnames`, and the lines of every field; `readRules` reads `spec.rules` the kind's way.
    static func translate(
        _ root: YAMLField, apiVersion: String, kind: String, versions: [String], as routeKind: TranslatedRoute.Kind,
        reader: inout ObjectReader, readRules: (inout RouteFieldReader, YAMLField) -> [HTTPRouteRule]
    ) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: kind, namespaced: true, reader: &reader) else {
            return nil
        }
        guard checkVersion(apiVersion, kind: kind, allowed: versions, root: root, reader: reader) else { return nil }
        let spec = HTTPRouteSpec(
            namespace: meta.namespace, name: meta.name, location: "\(reader.file):\(meta.nameLine)", parentRefs: [],
            rules: [])
        var fields = RouteFieldReader(reader: reader, route: TranslatedRoute(kind: routeKind, spec: spec))
        fields.readCreationTimestamp(root)
        if let specField = reader.mapping(root, "spec") {
            reader.warnUnknownKeys(specField, known: ["parentRefs", "hostnames", "rules"])
            fields.route.spec.parentRefs = fields.parentRefs(specField)
            fields.route.spec.hostnames = fields.hostnames(specField)
            fields.route.spec.rules = readRules(&fields, specField)
        }
        fields.route.recordLines(of: root)
        let origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        return .route(fields.route, origin)
    }
}

extension RouteFieldReader {
    /// `metadata.creationTimestamp` (RFC 3339) as seconds since 1970, when present and valid.
    mutating func readCreationTimestamp(_ root: YAMLField) {
        guard let field = root.child("metadata")?.child("creationTimestamp") else { return }
        guard let date = field.node.timestamp else {
            reader.warning(
                "\(field.node.shortDescription) is not an RFC 3339 timestamp (2024-05-01T12:00:00Z); the route is "
                    + "ordered as if created after every route that has one", at: field)
            return
        }
        route.spec.creationOrder = Int64(date.timeIntervalSince1970.rounded(.down))
        route.hasCreationTimestamp = true
    }

    /// One entry of `spec.rules`.
    mutating func rule(_ item: YAMLField, modelPath: String) -> HTTPRouteRule {
        reader.warnUnknownKeys(item, known: HTTPRouteTranslator.ruleKeys)
        var rule = HTTPRouteRule()
        rule.name = item.child("name").flatMap(reader.string)
        for match in items(item, "matches", max: 64) where reader.isMapping(match) {
            let matchPath = "\(modelPath).matches[\(rule.matches.count)]"
            note(matchPath, match)
            rule.matches.append(httpMatch(match, modelPath: matchPath))
        }
        rule.filters = filters(item, modelPath: modelPath, onBackend: false)
        rule.backendRefs = backendRefs(item, modelPath: modelPath)
        if let field = reader.mapping(item, "timeouts") {
            reader.warnUnknownKeys(field, known: ["request", "backendRequest"])
            rule.timeouts = HTTPRouteRule.Timeouts(
                request: duration(field, "request"), backendRequest: duration(field, "backendRequest"))
        }
        if let field = reader.mapping(item, "retry") {
            rule.retry = retry(field, modelPath: modelPath + ".retry")
        }
        if let field = item.child("sessionPersistence") {
            reader.warning("sessionPersistence is not supported by Weft's waypoint and is ignored", at: field)
        }
        return rule
    }

    /// `HTTPRouteMatch`: `path` (`PathPrefix /` by default), `headers`, `queryParams`, `method`. A field in
    /// error is left at its default (the error withholds the snapshot), so the rest of the match is still
    /// checked by the compiler.
    private mutating func httpMatch(_ item: YAMLField, modelPath: String) -> HTTPRouteMatch {
        reader.warnUnknownKeys(item, known: ["path", "headers", "queryParams", "method"])
        var match = HTTPRouteMatch()
        if let path = reader.mapping(item, "path") {
            reader.warnUnknownKeys(path, known: ["type", "value"])
            let type = enumValue(path, "type", allowed: HTTPRouteTranslator.pathTypes, default: "PathPrefix")
            let value = path.child("value").flatMap(reader.string) ?? "/"
            switch type {
            case "Exact": match.path = .exact(value)
            case "PathPrefix": match.path = .pathPrefix(value)
            case "RegularExpression": match.path = .regularExpression(value)
            default: break
            }
        }
        match.headers = headerMatches(item, modelPath: modelPath)
        for param in items(item, "queryParams", max: 16) where reader.isMapping(param) {
            reader.warnUnknownKeys(param, known: ["type", "name", "value"])
            let type = valueMatchType(param)
            let name = reader.requiredString(param, "name", "name the query parameter to match")
            let value = requiredValue(param)
            guard let type, let name, let value else { continue }
            note("\(modelPath).queryParams[\(match.queryParams.count)]", param)
            match.queryParams.append(HTTPRouteMatch.QueryParamMatch(type, name: name, value: value))
        }
        if item.child("method") != nil {
            let methods = HTTPRouteMatch.Method.allCases.map(\.rawValue)
            let method = ServiceEntryTranslator.checkEnum(item, "method", allowed: methods, reader: reader)
            match.method = method.flatMap(HTTPRouteMatch.Method.init(rawValue:))
        }
        return match
    }

    /// `HTTPRouteRetry`: `codes` (integers; WeftRoute checks 400–599), `attempts`, `backoff`.
    private mutating func retry(_ field: YAMLField, modelPath: String) -> HTTPRouteRule.Retry {
        reader.warnUnknownKeys(field, known: ["codes", "attempts", "backoff"])
        var retry = HTTPRouteRule.Retry()
        for item in reader.sequence(field, "codes") {
            guard let code = int32(item) else { continue }
            note("\(modelPath).codes[\(retry.codes.count)]", item)
            retry.codes.append(code)
        }
        retry.attempts = field.child("attempts").flatMap(int32)
        retry.backoff = duration(field, "backoff")
        return retry
    }
}
