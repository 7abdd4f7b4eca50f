// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute
import Yams

/// Reads the parts HTTPRoute and GRPCRoute share (`parentRefs`, `hostnames`, `backendRefs`, header
/// matches, filters, durations) into WeftRoute's model, rejecting what the Gateway API schema rejects
/// (missing required fields, unknown enum values, lists over their maximum length) and recording where
/// each model list entry came from, so that later problems point at the right manifest field.
struct RouteFieldReader {
    /// Gateway API's group, the default `group` of a parent reference.
    static let gatewayGroup = "gateway.networking.k8s.io"
    /// Parent kinds the waypoint reads: a Service (GAMMA) or a waypoint Gateway.
    static let parentKinds = "a Service (group \"\") or a waypoint Gateway"

    let reader: ObjectReader
    /// The route being built: its paths, lines and section names.
    var route: TranslatedRoute

    /// Checks `apiVersion` against the versions Weft reads for `kind`; an error (and `false`) otherwise.
    static func checkVersion(
        _ apiVersion: String, kind: String, allowed: [String], root: YAMLField, reader: ObjectReader
    ) -> Bool {
        guard !allowed.contains(apiVersion) else { return true }
        reader.error(
            "\(kind) apiVersion \(apiVersion) is not supported; use \(allowed.joined(separator: " or ")) — the "
                + "\(kind) was not loaded", at: root.child("apiVersion") ?? root)
        return false
    }

    // MARK: - Bookkeeping

    /// Records that the model entry at `modelPath` (relative to `spec`) came from `field`.
    mutating func note(_ modelPath: String, _ field: YAMLField) {
        if field.path != "spec." + modelPath { route.manifestPaths[modelPath] = field.path }
    }

    /// The items of the list at `parent.key`, reporting a list longer than the API allows (all are read).
    func items(_ parent: YAMLField, _ key: String, max: Int) -> [YAMLField] {
        let items = reader.sequence(parent, key)
        if items.count > max, let field = parent.child(key) {
            reader.error("has \(items.count) entries; Gateway API allows at most \(max)", at: field)
        }
        return items
    }

    /// The integer at `field`, any size that fits an `int32`; range checks are left to WeftRoute's compiler.
    func int32(_ field: YAMLField) -> Int? {
        if field.node.tagName == .int, let value = field.node.int, (Int(Int32.min)...Int(Int32.max)).contains(value) {
            return value
        }
        reader.error("must be an integer, got \(field.node.shortDescription)", at: field)
        return nil
    }

    /// The enum value at `parent.key` (`fallback` when absent); an unknown value is an error naming the
    /// allowed ones, and gives `nil`.
    func enumValue(_ parent: YAMLField, _ key: String, allowed: [String], default fallback: String) -> String? {
        guard parent.child(key) != nil else { return fallback }
        return ServiceEntryTranslator.checkEnum(parent, key, allowed: allowed, reader: reader)
    }

    /// The Gateway API duration at `parent.key`, or `nil` when absent or invalid (reported).
    func duration(_ parent: YAMLField, _ key: String) -> Duration? {
        guard let field = parent.child(key), let text = reader.string(field) else { return nil }
        do {
            return try GatewayDuration.parse(text)
        } catch {
            reader.error(error.message, at: field)
            return nil
        }
    }

    // MARK: - Route level

    /// `spec.parentRefs` (at most 32). Every entry is kept, in order (so indices match the manifest),
    /// unless it has no name; kinds the waypoint does not read are warned about.
    mutating func parentRefs(_ spec: YAMLField) -> [HTTPRouteSpec.ParentReference] {
        var result: [HTTPRouteSpec.ParentReference] = []
        for item in items(spec, "parentRefs", max: 32) where reader.isMapping(item) {
            reader.warnUnknownKeys(item, known: ["group", "kind", "namespace", "name", "sectionName", "port"])
            let name = reader.requiredString(
                item, "name", "name the Service (or waypoint Gateway) the route attaches to")
            let groupField = item.child("group")
            var group = groupField.flatMap(reader.string) ?? Self.gatewayGroup
            if group == "core" { group = "" }
            let kind = item.child("kind").flatMap(reader.string) ?? "Gateway"
            let namespace = item.child("namespace").flatMap(reader.string).flatMap { $0.isEmpty ? nil : $0 }
            let sectionName = item.child("sectionName").flatMap(reader.string).flatMap { $0.isEmpty ? nil : $0 }
            let port = item.child("port").flatMap(reader.port)
            guard let name else { continue }
            let isService = group.isEmpty && kind == "Service"
            let isGateway = group == Self.gatewayGroup && kind == "Gateway"
            if kind == "Service", groupField == nil {
                reader.warning(
                    "group defaults to \(Self.gatewayGroup), which has no kind Service, so this parentRef attaches to "
                        + "nothing; write group: \"\" for a Service", at: item.child("kind") ?? item)
            } else if !isService && !isGateway {
                reader.warning(
                    "parentRef \(group.isEmpty ? "core" : group)/\(kind) is not supported by the waypoint and is "
                        + "ignored; attach the route to \(Self.parentKinds)", at: item.child("kind") ?? item)
            }
            note("parentRefs[\(result.count)]", item)
            if isService || isGateway, let sectionName { route.sectionNames[result.count] = sectionName }
            result.append(
                HTTPRouteSpec.ParentReference(group: group, kind: kind, namespace: namespace, name: name, port: port))
        }
        return result
    }

    /// `spec.hostnames` (at most 16); WeftRoute's compiler checks their form.
    mutating func hostnames(_ spec: YAMLField) -> [String] {
        var result: [String] = []
        for item in items(spec, "hostnames", max: 16) {
            guard let hostname = reader.string(item) else { continue }
            note("hostnames[\(result.count)]", item)
            result.append(hostname)
        }
        return result
    }

    // MARK: - Backends

    /// `backendRefs` of a rule (at most 16), with their filters.
    mutating func backendRefs(_ rule: YAMLField, modelPath: String) -> [HTTPBackendRef] {
        var result: [HTTPBackendRef] = []
        for item in items(rule, "backendRefs", max: 16) where reader.isMapping(item) {
            reader.warnUnknownKeys(item, known: ["group", "kind", "name", "namespace", "port", "weight", "filters"])
            let backendPath = "\(modelPath).backendRefs[\(result.count)]"
            let object = backendObject(item)
            let weight = item.child("weight").flatMap(int32)
            let filters = self.filters(item, modelPath: backendPath, onBackend: true)
            guard let object else { continue }
            note(backendPath, item)
            result.append(HTTPBackendRef(object, weight: weight ?? 1, filters: filters))
        }
        return result
    }

    /// A `BackendObjectReference` (`group` default `""`, `kind` default `Service`, `name`, `namespace`,
    /// `port`, which a Service reference requires); `nil` when invalid (reported).
    func backendObject(_ item: YAMLField) -> BackendObjectReference? {
        let name = reader.requiredString(item, "name", "name the Service that receives the traffic")
        var group = item.child("group").flatMap(reader.string) ?? ""
        if group == "core" { group = "" }
        let kind = item.child("kind").flatMap(reader.string) ?? "Service"
        let namespace = item.child("namespace").flatMap(reader.string).flatMap { $0.isEmpty ? nil : $0 }
        var port: UInt16?
        if let field = item.child("port") {
            guard let value = reader.port(field) else { return nil }
            port = value
        } else if group.isEmpty && kind == "Service" {
            reader.missing("port", in: item, "a Service backend needs the Service port to send to")
            return nil
        }
        guard let name else { return nil }
        return BackendObjectReference(group: group, kind: kind, name: name, namespace: namespace, port: port)
    }

    // MARK: - Matches

    /// The `type` of a header or query parameter match: `Exact` (default) or `RegularExpression`.
    func valueMatchType(_ item: YAMLField) -> HTTPRouteMatch.ValueMatchType? {
        enumValue(item, "type", allowed: ["Exact", "RegularExpression"], default: "Exact")
            .flatMap(HTTPRouteMatch.ValueMatchType.init(rawValue:))
    }

    /// `headers` of a match (at most 16): `{type, name, value}`, all but `type` required.
    mutating func headerMatches(_ match: YAMLField, modelPath: String) -> [HTTPRouteMatch.HeaderMatch] {
        var result: [HTTPRouteMatch.HeaderMatch] = []
        for item in items(match, "headers", max: 16) where reader.isMapping(item) {
            reader.warnUnknownKeys(item, known: ["type", "name", "value"])
            let type = valueMatchType(item)
            let name = reader.requiredString(item, "name", "name the header to match")
            let value = requiredValue(item)
            guard let type, let name, let value else { continue }
            note("\(modelPath).headers[\(result.count)]", item)
            result.append(HTTPRouteMatch.HeaderMatch(type, name: name, value: value))
        }
        return result
    }

    /// The `value` of a `{name, value}` entry: required, but may be empty.
    func requiredValue(_ item: YAMLField) -> String? {
        guard let field = item.child("value") else {
            reader.missing("value", in: item, "give the value (or regular expression) to compare")
            return nil
        }
        return reader.string(field)
    }
}
