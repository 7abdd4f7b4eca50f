// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftPolicy

/// Translates Istio `AuthorizationPolicy` objects (`security.istio.io/v1` and `v1beta1`) into
/// ``AuthorizationPolicy`` values, with Istio's validation and with warnings wherever the node enforces
/// less than the policy says.
///
/// Reads `spec.selector.matchLabels` (an empty selector selects the whole namespace, with a warning),
/// `spec.targetRefs` / `spec.targetRef` (kept for a waypoint; the node ignores such policies),
/// `spec.action` (default ALLOW), `spec.provider.name` (CUSTOM only), `spec.rules` and the
/// `istio.io/dry-run` annotation. Errors: an unknown action or apiVersion, `selector` with `targetRefs`,
/// DENY or CUSTOM without `rules`, CUSTOM without a provider, a provider on another action, and every
/// rule problem ``AuthorizationRuleTranslator`` finds. Warnings: AUDIT and CUSTOM (ignored by the node),
/// `targetRefs`, dry-run, and each field only a waypoint can enforce, saying what the node does instead.
enum AuthorizationPolicyTranslator {
    static let kind = "AuthorizationPolicy"
    static let versions = ["security.istio.io/v1", "security.istio.io/v1beta1"]
    static let actions = AuthorizationPolicy.Action.allCases.map(\.rawValue)
    static let dryRunAnnotation = "istio.io/dry-run"
    /// The targets Istio accepts: (canonical group, kind).
    static let targetKinds: [(group: String, kind: String)] = [
        ("gateway.networking.k8s.io", "Gateway"), ("gateway.networking.k8s.io", "GatewayClass"), ("", "Service"),
        ("networking.istio.io", "ServiceEntry"),
    ]

    static func translate(_ root: YAMLField, apiVersion: String, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: kind, namespaced: true, reader: &reader)
        else { return nil }
        guard versions.contains(apiVersion) else {
            reader.error(
                "AuthorizationPolicy apiVersion \(apiVersion) is not supported; use security.istio.io/v1 "
                    + "(or security.istio.io/v1beta1) — the policy was not loaded",
                at: root.child("apiVersion") ?? root)
            return nil
        }
        let errorsBefore = reader.log.diagnostics.count(where: \.isError)
        let location = ManifestLocation(file: reader.file, line: meta.nameLine)
        var policy = AuthorizationPolicy(name: meta.name, namespace: meta.namespace, location: location)
        policy.dryRun = dryRun(meta, root: root, reader: reader)
        let origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        guard let spec = reader.mapping(root, "spec") else { return .authorizationPolicy(policy, origin) }

        AuthorizationRuleTranslator.warnUnknownKeys(
            spec, known: ["selector", "targetRef", "targetRefs", "action", "provider", "rules"], reader: reader)
        if let text = ServiceEntryTranslator.checkEnum(spec, "action", allowed: actions, reader: reader) {
            policy.action = AuthorizationPolicy.Action(rawValue: text) ?? .allow
        }
        policy.scope = scope(spec, reader: reader)
        policy.provider = provider(spec, action: policy.action, reader: reader)

        var rules = AuthorizationRuleTranslator(reader: reader, action: policy.action)
        let ruleItems = reader.sequence(spec, "rules")
        if ruleItems.count > 512, let field = spec.child("rules") {
            reader.error("has \(ruleItems.count) rules; Istio allows at most 512", at: field)
        }
        policy.rules = ruleItems.enumerated().compactMap { index, item in rules.rule(item, index: index) }
        if ruleItems.isEmpty, policy.action == .deny || policy.action == .custom {
            let field = spec.child("rules") ?? spec.child("action") ?? spec
            reader.error(
                "\(policy.action.rawValue) without rules never matches and has no effect; add the rules, or "
                    + "rules: [{}] to match every connection", at: field)
        }
        // A rejected policy never reaches the node; its node behaviour would only add noise.
        if reader.log.diagnostics.count(where: \.isError) == errorsBefore {
            warnNodeBehaviour(policy, spec: spec, lines: rules.lines, reader: reader)
        }
        return .authorizationPolicy(policy, origin)
    }

    /// `istio.io/dry-run`: Go boolean syntax, as istiod parses it; anything else is enforced, with a warning.
    private static func dryRun(_ meta: ObjectMetadata, root: YAMLField, reader: ObjectReader) -> Bool {
        guard let value = meta.annotations[dryRunAnnotation], !value.isEmpty else { return false }
        let field = root.child("metadata")?.child("annotations")?.child(dryRunAnnotation) ?? root
        switch value {
        case "1", "t", "T", "TRUE", "true", "True":
            reader.warning("dry-run: the policy is evaluated and shown by weft explain, but not enforced", at: field)
            return true
        case "0", "f", "F", "FALSE", "false", "False":
            return false
        default:
            reader.warning("\"\(value)\" is not true or false; the policy is enforced (not dry-run)", at: field)
            return false
        }
    }

    /// `selector`, `targetRefs` and `targetRef`: at most one of them.
    private static func scope(_ spec: YAMLField, reader: ObjectReader) -> AuthorizationPolicy.Scope {
        let present = ["selector", "targetRef", "targetRefs"].compactMap { spec.child($0) }
        if present.count > 1 {
            reader.error(
                "only one of selector, targetRef and targetRefs may be set; selector picks workloads for the node, "
                    + "targetRefs binds the policy to a waypoint", at: present[1])
        }
        var scope = AuthorizationPolicy.Scope.namespace
        if let selector = reader.mapping(spec, "selector") {
            AuthorizationRuleTranslator.warnUnknownKeys(selector, known: ["matchLabels"], reader: reader)
            let labels = reader.stringMap(selector, "matchLabels")
            for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
                let field = selector.child("matchLabels")?.child(key) ?? selector
                if key.isEmpty {
                    reader.error("empty label key in selector", at: field)
                } else if key.contains("*") || value.contains("*") {
                    reader.error("wildcards are not supported in selectors: \"\(key)=\(value)\"", at: field)
                }
            }
            if labels.isEmpty {
                reader.warning(
                    "selector has no labels, so the policy applies to every workload in the namespace (or the mesh, "
                        + "in the root namespace); remove the selector or add matchLabels", at: selector)
            } else if present.count == 1 {
                scope = .selector(LabelSelector(labels))
            }
        }
        var references: [AuthorizationPolicy.TargetReference] = []
        if let single = spec.child("targetRef"), reader.isMapping(single) {
            references += targetReference(single, reader: reader).map { [$0] } ?? []
        }
        if let list = spec.child("targetRefs") {
            let items = reader.sequence(spec, "targetRefs")
            if items.count > 16 { reader.error("has \(items.count) targets; at most 16 are allowed", at: list) }
            references += items.compactMap { reader.isMapping($0) ? targetReference($0, reader: reader) : nil }
        }
        if !references.isEmpty, present.count == 1 {
            scope = .targetRefs(references)
            let targets = references.map(\.description).joined(separator: ", ")
            reader.warning(
                "targetRefs binds this policy to a waypoint (\(targets)); the node does not enforce it", at: present[0])
        }
        return scope
    }

    private static func targetReference(
        _ field: YAMLField, reader: ObjectReader
    ) -> AuthorizationPolicy.TargetReference? {
        AuthorizationRuleTranslator.warnUnknownKeys(
            field, known: ["group", "kind", "name", "namespace"], reader: reader)
        let kind = reader.requiredString(
            field, "kind", "name the target's kind: Gateway, GatewayClass, Service or ServiceEntry")
        let name = reader.requiredString(field, "name", "name the target")
        var group = reader.string(field, "group") ?? ""
        if group == "core" { group = "" }
        if let namespace = field.child("namespace") {
            reader.error(
                "cross-namespace targets are not supported; remove namespace (the policy's namespace is used)",
                at: namespace)
        }
        guard let kind, let name else { return nil }
        guard targetKinds.contains(where: { $0.group == group && $0.kind == kind }) else {
            let allowed = targetKinds.map { $0.group.isEmpty ? $0.kind : "\($0.kind) (\($0.group))" }
            reader.error(
                "target \(group.isEmpty ? "" : group + "/")\(kind) is not supported; use one of "
                    + allowed.joined(separator: ", "), at: field.child("kind") ?? field)
            return nil
        }
        return AuthorizationPolicy.TargetReference(group: group, kind: kind, name: name)
    }

    /// `provider.name`: required for CUSTOM (when it has rules), forbidden otherwise.
    private static func provider(
        _ spec: YAMLField, action: AuthorizationPolicy.Action, reader: ObjectReader
    ) -> String? {
        let field = spec.child("provider")
        if let field, action != .custom {
            reader.error("provider is only allowed with action CUSTOM; remove it or set action: CUSTOM", at: field)
            return nil
        }
        guard action == .custom else { return nil }
        var name: String?
        if let field, reader.isMapping(field) { name = reader.string(field, "name") }
        if (name ?? "").isEmpty, !reader.sequence(spec, "rules").isEmpty {
            let at = field ?? spec.child("action") ?? spec
            reader.error(
                "action CUSTOM needs provider.name, the extension provider (from the mesh config) that decides",
                at: field?.child("name") ?? at)
        }
        return name.flatMap { $0.isEmpty ? nil : $0 }
    }
}
