// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Checks VirtualServices and DestinationRules against each other and the Services, resolves the targets of
/// LocalRateLimitPolicies (``LocalRateLimitAssembler``), and builds ``MeshTrafficPolicies``.
///
/// Errors: every ``VirtualServiceTable`` compile error, at its field and line; and a destination (or
/// mirror) `subset` that no DestinationRule for its host defines — Istio would answer such requests
/// with 503 `NR` at run time, Weft refuses the load. Warnings: a destination or DestinationRule host that
/// is not a known Service or ServiceEntry, a VirtualService that applies only to gateways, a host that two
/// VirtualServices (or two DestinationRules) claim (the first in load order is used), and a Service that
/// also has Gateway API routes (the VirtualService is ignored for it).
struct TrafficPolicyAssembler {
    typealias Located<T> = (spec: T, lines: FieldLines, origin: ObjectOrigin)

    let snapshot: MeshSnapshot
    let routes: MeshRoutes
    /// Gateways that are not waypoints: `namespace/name` → `gatewayClassName`.
    let otherGateways: [String: String]
    let log: DiagnosticLog

    func assemble(
        virtualServices: [Located<VirtualServiceSpec>], destinationRules: [Located<DestinationRuleSpec>],
        rateLimitPolicies: [Located<LocalRateLimitPolicyTranslator.Policy>]
    ) -> MeshTrafficPolicies {
        let knownHosts = Set(snapshot.services.map { $0.hostname.lowercased() })
        var rules: [String: DestinationRuleSpec] = [:]
        for entry in destinationRules {
            let host = entry.spec.resolvedHost.lowercased()
            let site = site(entry, "spec.host")
            if let first = rules[host] {
                warn(site, "DestinationRule \(first.key) already applies to host \(host); this one is ignored")
                continue
            }
            rules[host] = entry.spec
            if !knownHosts.contains(host) {
                warn(site, "host \(host) is not a Service or ServiceEntry in the manifests")
            }
        }
        var tables: [String: VirtualServiceTable] = [:]
        var owners: [String: String] = [:]
        let domain = VirtualServiceDestination.clusterDomain
        let routedServices = Set(routes.parents.map { "\($0.name).\($0.namespace).\(domain)" })
        for entry in virtualServices {
            let table = VirtualServiceTable(entry.spec)
            for error in table.errors {
                let at = site(entry, "spec." + error.field)
                log.error(file: at.file, line: at.line, object: at.object, field: at.field, error.message)
            }
            checkDestinations(entry, rules: rules, knownHosts: knownHosts)
            guard entry.spec.appliesToMesh else {
                warn(
                    site(entry, "spec.gateways"),
                    "gateways does not include mesh, so this VirtualService does not apply to the waypoint")
                continue
            }
            let services = snapshot.services.filter { $0.kind == .service && entry.spec.applies(toHost: $0.hostname) }
            for service in services {
                let host = service.hostname.lowercased()
                if let first = owners[host] {
                    warn(
                        site(entry, "spec.hosts"),
                        "VirtualService \(first) already applies to \(host); this one is ignored for that host")
                    continue
                }
                owners[host] = entry.spec.key
                if routedServices.contains(host) {
                    warn(
                        site(entry, "spec.hosts"),
                        "Service \(service.namespace)/\(service.name) also has Gateway API routes attached, which take "
                            + "precedence; this VirtualService is ignored for it")
                    continue
                }
                tables[host] = table
            }
        }
        let rateLimitAssembler = LocalRateLimitAssembler(
            snapshot: snapshot, routes: routes, virtualServices: virtualServices.map(\.spec),
            otherGateways: otherGateways, log: log)
        let rateLimits = rateLimitAssembler.resolve(rateLimitPolicies)
        return MeshTrafficPolicies(
            virtualServices: virtualServices.map(\.spec), destinationRules: destinationRules.map(\.spec),
            tables: tables, rules: rules, rateLimits: rateLimits)
    }

    /// Checks every route destination and mirror: the subset exists, the host is known.
    private func checkDestinations(
        _ entry: Located<VirtualServiceSpec>, rules: [String: DestinationRuleSpec], knownHosts: Set<String>
    ) {
        for (ruleIndex, rule) in entry.spec.http.enumerated() {
            var targets = rule.route.enumerated().map {
                ("spec.http[\(ruleIndex)].route[\($0)].destination", $1.destination)
            }
            if let mirror = rule.mirror { targets.append(("spec.http[\(ruleIndex)].mirror", mirror)) }
            for (path, destination) in targets where !destination.host.isEmpty {
                let resolved = destination.resolved(namespace: entry.spec.namespace)
                let host = resolved.host.lowercased()
                if let subset = destination.subset {
                    if let rule = rules[host] {
                        if rule.subset(named: subset) == nil {
                            let known = rule.subsets.map(\.name)
                            let at = site(entry, path + ".subset")
                            log.brokenReference(
                                file: at.file, line: at.line, object: at.object, field: at.field,
                                "subset \(subset) is not defined by DestinationRule \(rule.key) for host \(host) "
                                    + "(its subsets: \(known.isEmpty ? "none" : known.joined(separator: ", "))); "
                                    + "requests routed there get 503 (flag NR)")
                        }
                    } else {
                        let at = site(entry, path + ".subset")
                        log.brokenReference(
                            file: at.file, line: at.line, object: at.object, field: at.field,
                            "subset \(subset) is not defined: no DestinationRule for host \(host); requests routed "
                                + "there get 503 (flag NR) — add a DestinationRule with that subset")
                    }
                }
                if !knownHosts.contains(host) && !host.contains("*") {
                    warn(site(entry, path + ".host"), "host \(host) is not a Service or ServiceEntry in the manifests")
                }
            }
        }
    }

    private struct Site {
        var file: String
        var line: Int
        var object: String
        var field: String
    }

    private func site<T>(_ entry: Located<T>, _ field: String) -> Site {
        Site(
            file: entry.origin.file, line: entry.lines.line(of: field, fallback: entry.origin.line),
            object: entry.origin.object, field: field)
    }

    private func warn(_ site: Site, _ message: String) {
        log.warning(file: site.file, line: site.line, object: site.object, field: site.field, message)
    }
}
