// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Resolves the `targetRefs` of LocalRateLimitPolicies against the other objects, once every object is
/// read, into ``LocalRateLimit``s.
///
/// Errors: a `sectionName` that names no port of an existing Service, no rule of an existing HTTPRoute or
/// GRPCRoute, or no `http` rule of an existing VirtualService — the policy would silently limit nothing.
/// Warnings: a target that does not exist (it is left out: the policy limits nothing there until it exists
/// and the configuration is reloaded), a Gateway that is not an `istio-waypoint` Gateway, and a Service
/// that uses no waypoint (only a waypoint enforces the limit).
struct LocalRateLimitAssembler {
    typealias Policy = LocalRateLimitPolicyTranslator.Policy
    typealias TargetReference = LocalRateLimitPolicyTranslator.TargetReference

    let snapshot: MeshSnapshot
    let routes: MeshRoutes
    let virtualServices: [VirtualServiceSpec]
    /// Gateways that are not waypoints: `namespace/name` → `gatewayClassName`.
    let otherGateways: [String: String]
    let log: DiagnosticLog

    /// The limits of `policies`, in load order and then `targetRefs` order.
    func resolve(_ policies: [TrafficPolicyAssembler.Located<Policy>]) -> [LocalRateLimit] {
        var result: [LocalRateLimit] = []
        for entry in policies {
            let policy = entry.spec
            for reference in policy.targets {
                let site = Site(origin: entry.origin, lines: entry.lines, path: reference.path)
                guard let target = target(reference, namespace: policy.namespace, at: site) else { continue }
                result.append(
                    LocalRateLimit(
                        namespace: policy.namespace, name: policy.name, target: target, requests: policy.requests,
                        unit: policy.unit, burst: policy.burst, location: policy.location))
            }
        }
        return result
    }

    /// The resolved target; `nil` when it does not exist or its `sectionName` names nothing (reported).
    private func target(_ reference: TargetReference, namespace: String, at site: Site) -> LocalRateLimit.Target? {
        let key = "\(namespace)/\(reference.name)"
        let kind = reference.kind.rawValue
        func absent() -> LocalRateLimit.Target? {
            warn(
                site, "name",
                "\(kind) \(key) does not exist in the manifests; this target limits nothing until it does (the "
                    + "policy's namespace, \(namespace), is where targets are looked up)")
            return nil
        }
        switch reference.kind {
        case .gateway:
            if snapshot.waypoint(namespace: namespace, name: reference.name) != nil {
                return .waypoint(namespace: namespace, name: reference.name)
            }
            guard let className = otherGateways[key] else { return absent() }
            warn(
                site, "name",
                "Gateway \(key) is not a waypoint (gatewayClassName \(className), not "
                    + "\(Waypoint.Labels.gatewayClassName)); only a waypoint enforces local rate limits, so this "
                    + "target limits nothing")
            return nil
        case .service:
            guard
                let service = snapshot.services.first(where: {
                    $0.kind == .service && $0.namespace == namespace && $0.name == reference.name
                })
            else { return absent() }
            var port: UInt16?
            if let sectionName = reference.sectionName {
                guard let match = service.ports.first(where: { $0.name == sectionName }) else {
                    let names = service.ports.compactMap(\.name)
                    let known =
                        names.isEmpty ? "it has no named ports" : "its ports are " + names.joined(separator: ", ")
                    error(
                        site, "sectionName",
                        "Service \(key) has no port named \(sectionName) (\(known)); name one of its ports, or remove "
                            + "sectionName to limit every port")
                    return nil
                }
                port = match.port
            }
            if snapshot.waypoint(forService: service) == nil {
                warn(
                    site, "name",
                    "Service \(key) uses no waypoint (no \(Waypoint.Labels.useWaypoint) label on it or its namespace); "
                        + "only a waypoint enforces local rate limits, so this target has no effect until it uses one")
            }
            return .service(namespace: namespace, name: reference.name, port: port)
        case .httpRoute, .grpcRoute:
            let all = reference.kind == .httpRoute ? routes.httpRoutes : routes.grpcRoutes
            guard let route = all.first(where: { $0.namespace == namespace && $0.name == reference.name }) else {
                return absent()
            }
            guard check(reference, ruleNames: route.rules.map(\.name), owner: "\(kind) \(key)", at: site) else {
                return nil
            }
            return reference.kind == .httpRoute
                ? .httpRoute(namespace: namespace, name: reference.name, rule: reference.sectionName)
                : .grpcRoute(namespace: namespace, name: reference.name, rule: reference.sectionName)
        case .virtualService:
            guard let spec = virtualServices.first(where: { $0.namespace == namespace && $0.name == reference.name })
            else { return absent() }
            guard check(reference, ruleNames: spec.http.map(\.name), owner: "VirtualService \(key)", at: site) else {
                return nil
            }
            return .virtualService(namespace: namespace, name: reference.name, rule: reference.sectionName)
        }
    }

    /// Whether the reference's `sectionName` (if any) is the name of one of the rules; an error otherwise.
    private func check(_ reference: TargetReference, ruleNames: [String?], owner: String, at site: Site) -> Bool {
        guard let sectionName = reference.sectionName, !ruleNames.contains(sectionName) else { return true }
        let names = ruleNames.compactMap { $0 }
        let known = names.isEmpty ? "none of its rules has a name" : "its rules are " + names.joined(separator: ", ")
        error(
            site, "sectionName",
            "\(owner) has no rule named \(sectionName) (\(known)); name one of its rules, or remove sectionName to "
                + "limit the whole route")
        return false
    }

    /// A `targetRefs` entry, where its diagnostics go.
    private struct Site {
        var origin: ObjectOrigin
        var lines: FieldLines
        var path: String
    }

    private func warn(_ site: Site, _ key: String, _ message: String) {
        let field = site.path + "." + key
        log.warning(
            file: site.origin.file, line: site.lines.line(of: field, fallback: site.origin.line),
            object: site.origin.object, field: field, message)
    }

    private func error(_ site: Site, _ key: String, _ message: String) {
        let field = site.path + "." + key
        log.error(
            file: site.origin.file, line: site.lines.line(of: field, fallback: site.origin.line),
            object: site.origin.object, field: field, message)
    }
}
