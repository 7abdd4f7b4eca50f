// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute
import Yams

/// Translates Weft's `LocalRateLimitPolicy` (`weft.dev/v1alpha1`): local token-bucket rate limits enforced
/// by the waypoint, which Istio needs an EnvoyFilter for. The semantics are ``LocalRateLimit``'s.
///
/// ```yaml
/// spec:
///   targetRefs:                # 1–16; targets are in the policy's namespace
///   - {group: "", kind: Service, name: reviews, sectionName: http}   # sectionName: a port name
///   limit: {requests: 100, unit: Second}                             # Second, Minute or Hour
///   burst: 200                                                       # bucket size; default: requests
/// ```
///
/// Errors: a missing `spec`, `targetRefs` or `limit`; no targets or more than 16; a target without `kind`,
/// `group` or `name`, of an unknown kind, with a `group` that is not its kind's, with a `namespace`, or a
/// Gateway with a `sectionName`; `requests` or `burst` not an integer between 1 and 2³²−1; `burst` below
/// `requests`; an unknown `unit`. Unknown fields are warnings (ignored), and so is a repeated target (kept
/// once). Whether the targets exist is checked by ``LocalRateLimitAssembler`` once every object is read.
enum LocalRateLimitPolicyTranslator {
    static let kind = "LocalRateLimitPolicy"
    static let group = "weft.dev"
    static let versions = ["weft.dev/v1alpha1"]
    /// The most `targetRefs` entries a policy may have, as Gateway API policies.
    static let maxTargets = 16
    /// The largest `requests` and `burst`: Envoy's token bucket counts in `uint32`.
    static let maxTokens = Int(UInt32.max)

    /// A kind a target can be.
    enum TargetKind: String, CaseIterable {
        case service = "Service"
        case gateway = "Gateway"
        case httpRoute = "HTTPRoute"
        case grpcRoute = "GRPCRoute"
        case virtualService = "VirtualService"

        /// The kind's API group (`""` is the core group).
        var group: String {
            switch self {
            case .service: return ""
            case .gateway, .httpRoute, .grpcRoute: return RouteFieldReader.gatewayGroup
            case .virtualService: return "networking.istio.io"
            }
        }

        /// What `sectionName` names for this kind; `nil` when it is not allowed.
        var sectionMeaning: String? {
            switch self {
            case .service: return "a port name"
            case .gateway: return nil
            case .httpRoute, .grpcRoute: return "a rule name"
            case .virtualService: return "an http rule name"
            }
        }

        /// `a Service`, `an HTTPRoute`.
        var withArticle: String { self == .httpRoute ? "an \(rawValue)" : "a \(rawValue)" }

        /// Where the kind is, and how to write it: `a Service is in the core group: write group: ""`.
        var groupHint: String {
            group.isEmpty
                ? "\(withArticle) is in the core group: write group: \"\""
                : "\(withArticle) is in \(group): write group: \(group)"
        }
    }

    /// One `targetRefs` entry, checked but not yet resolved against the other objects.
    struct TargetReference: Hashable {
        var kind: TargetKind
        var name: String
        var sectionName: String?
        /// The manifest path of the entry, `spec.targetRefs[2]`.
        var path: String
    }

    /// A translated policy; its targets are resolved by ``LocalRateLimitAssembler``.
    struct Policy {
        var namespace: String
        var name: String
        var targets: [TargetReference]
        var requests: Int
        var unit: LocalRateLimit.Unit
        var burst: Int
        var location: ManifestLocation
    }

    static func translate(_ root: YAMLField, apiVersion: String, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: kind, namespaced: true, reader: &reader) else {
            return nil
        }
        guard RouteFieldReader.checkVersion(apiVersion, kind: kind, allowed: versions, root: root, reader: reader)
        else { return nil }
        guard let spec = reader.mapping(root, "spec") else {
            if root.child("spec") == nil {
                reader.missing("spec", in: root, "a \(kind) needs spec.targetRefs and spec.limit")
            }
            return nil
        }
        reader.warnUnknownKeys(spec, known: ["targetRefs", "limit", "burst"])
        let targets = targets(spec, namespace: meta.namespace, reader: reader)
        var policy = Policy(
            namespace: meta.namespace, name: meta.name, targets: targets, requests: 1, unit: .second, burst: 1,
            location: ManifestLocation(file: reader.file, line: meta.nameLine))
        var requests: Int?
        if let limit = reader.mapping(spec, "limit") {
            reader.warnUnknownKeys(limit, known: ["requests", "unit"])
            if let field = limit.child("requests") {
                requests = reader.integer(field, in: 1...maxTokens)
            } else {
                reader.missing("requests", in: limit, "set the tokens added per unit, e.g. requests: 100")
            }
            let units = LocalRateLimit.Unit.allCases.map(\.rawValue)
            if limit.child("unit") == nil {
                reader.missing("unit", in: limit, "set one of \(units.joined(separator: ", ")), e.g. unit: Second")
            } else if let unit = ServiceEntryTranslator.checkEnum(limit, "unit", allowed: units, reader: reader) {
                policy.unit = LocalRateLimit.Unit(rawValue: unit) ?? .second
            }
        } else if spec.child("limit") == nil {
            reader.missing("limit", in: spec, "set the rate, e.g. limit: {requests: 100, unit: Second}")
        }
        policy.requests = requests ?? policy.requests
        policy.burst = policy.requests
        if let field = spec.child("burst"), let burst = reader.integer(field, in: 1...maxTokens) {
            policy.burst = burst
            if let requests, burst < requests {
                let unit = policy.unit.rawValue
                reader.error(
                    "burst \(burst) is below limit.requests \(requests): the bucket never holds more than \(burst) "
                        + "tokens, so at most \(burst) requests per \(unit) would pass; set burst to at least "
                        + "\(requests) (or leave it out), or lower limit.requests", at: field)
            }
        }
        let origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        return .localRateLimitPolicy(policy, FieldLines(root), origin)
    }

    /// `spec.targetRefs`: 1 to 16 entries. Entries in error are left out (reported); a repeated one is kept once.
    private static func targets(_ spec: YAMLField, namespace: String, reader: ObjectReader) -> [TargetReference] {
        guard let list = spec.child("targetRefs") else {
            let example = "targetRefs: [{group: \"\", kind: Service, name: reviews}]"
            reader.missing("targetRefs", in: spec, "list what to limit, e.g. \(example)")
            return []
        }
        let items = reader.sequence(spec, "targetRefs")
        if case .sequence = list.node, items.isEmpty {
            reader.error(
                "must list at least one target: a Service, an istio-waypoint Gateway, an HTTPRoute, a GRPCRoute or "
                    + "a VirtualService", at: list)
        } else if items.count > maxTargets {
            reader.error(
                "has \(items.count) targets; at most \(maxTargets) are allowed — split the policy in two", at: list)
        }
        var result: [TargetReference] = []
        for item in items where reader.isMapping(item) {
            guard let target = target(item, namespace: namespace, reader: reader) else { continue }
            if let first = result.first(where: {
                ($0.kind, $0.name, $0.sectionName) == (target.kind, target.name, target.sectionName)
            }) {
                reader.warning(
                    "repeats \(first.path); a target is limited once per policy, so this entry is ignored", at: item)
                continue
            }
            result.append(target)
        }
        return result
    }

    /// One `targetRefs` entry; `nil` when it is in error (reported).
    private static func target(_ item: YAMLField, namespace: String, reader: ObjectReader) -> TargetReference? {
        reader.warnUnknownKeys(item, known: ["group", "kind", "name", "sectionName", "namespace"])
        let kinds = TargetKind.allCases.map(\.rawValue).joined(separator: ", ")
        var valid = true
        var kind: TargetKind?
        if let field = item.child("kind") {
            if let text = reader.string(field) {
                kind = TargetKind(rawValue: text)
                if kind == nil {
                    reader.error("unknown kind \"\(text)\"; use one of \(kinds)", at: field)
                }
            }
        } else {
            reader.missing("kind", in: item, "name the kind of the target: one of \(kinds)")
        }
        if let field = item.child("group") {
            if var group = reader.string(field) {
                if group == "core" { group = "" }
                if let kind, group != kind.group {
                    let named = group.isEmpty ? "the core group (\"\")" : "group \(group)"
                    reader.error("\(named) has no kind \(kind.rawValue); \(kind.groupHint)", at: field)
                    valid = false
                }
            } else {
                valid = false
            }
        } else {
            let hint = kind?.groupHint ?? "write \"\" for a Service, gateway.networking.k8s.io for a Gateway or route"
            reader.missing("group", in: item, hint)
            valid = false
        }
        let name = reader.requiredString(item, "name", "name the \(kind?.rawValue ?? "target") to limit")
        if let field = item.child("namespace") {
            reader.error(
                "targets are always in the policy's namespace (\(namespace)); remove namespace, or create the policy "
                    + "in the target's namespace", at: field)
            valid = false
        }
        var sectionName: String?
        if let field = item.child("sectionName"), let text = reader.string(field) {
            if let kind, kind.sectionMeaning == nil {
                reader.error(
                    "sectionName is not allowed for a Gateway target: the limit covers every request through the "
                        + "waypoint; remove it, or target a Service port or a route rule instead", at: field)
                valid = false
            } else if text.isEmpty {
                reader.error(
                    "must not be empty; name \(kind?.sectionMeaning ?? "a section"), or remove sectionName to limit "
                        + "the whole \(kind?.rawValue ?? "target")", at: field)
                valid = false
            } else {
                sectionName = text
            }
        } else if item.child("sectionName") != nil {
            valid = false
        }
        guard valid, let kind, let name else { return nil }
        return TargetReference(kind: kind, name: name, sectionName: sectionName, path: item.path)
    }
}
