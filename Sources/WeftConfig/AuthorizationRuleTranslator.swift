// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftPolicy
import Yams

/// Reads the `spec.rules` of an AuthorizationPolicy with Istio's validation (istio/istio
/// `pkg/config/validation`, `ValidateAuthorizationPolicy`): `from`/`to` lists must not be empty, every
/// `source`/`operation` must set a field, value lists hold non-empty strings, `ipBlocks` are IPs or CIDRs,
/// `ports` are numbers 0…65535 written as strings, `serviceAccounts` are `ns/sa` or `sa` without wildcards
/// (at most 16) and not combined with `principals` or `namespaces`, `when` keys are known attributes with
/// valid values, and CUSTOM policies avoid the fields Istio's external authorization cannot match.
struct AuthorizationRuleTranslator {
    let reader: ObjectReader
    let action: AuthorizationPolicy.Action
    /// The line of every field read, by full path (`spec.rules[0].to[0].operation.methods`), so warnings
    /// about waypoint-only fields can point at them.
    private(set) var lines: [String: Int] = [:]

    init(reader: ObjectReader, action: AuthorizationPolicy.Action) {
        self.reader = reader
        self.action = action
    }

    static let sourceKeys = [
        "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
        "serviceAccounts", "notServiceAccounts", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
        "trustDomains", "notTrustDomains",
    ]
    static let operationKeys = ["ports", "notPorts", "hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"]
    /// Source fields Istio's CUSTOM action cannot use.
    static let customForbiddenSourceKeys = [
        "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
        "serviceAccounts", "notServiceAccounts",
    ]

    /// Reads one rule; `nil` when it is not a mapping (reported).
    mutating func rule(_ item: YAMLField, index: Int) -> AuthorizationPolicy.Rule? {
        guard case .mapping = item.node else {
            reader.error(
                "each rule must be a mapping (use {} for a rule that matches everything), got "
                    + item.node.shortDescription, at: item)
            return nil
        }
        Self.warnUnknownKeys(item, known: ["from", "to", "when"], reader: reader)
        var rule = AuthorizationPolicy.Rule(index: index)
        if let from = nonEmptyList(item, "from", entry: "source") {
            rule.from = from.compactMap { entry in
                guard let source = entryBody(entry, key: "source") else { return nil }
                return self.source(source)
            }
        }
        if let to = nonEmptyList(item, "to", entry: "operation") {
            rule.to = to.compactMap { entry in
                guard let operation = entryBody(entry, key: "operation") else { return nil }
                return self.operation(operation)
            }
        }
        rule.when = reader.sequence(item, "when").compactMap { condition($0) }
        return rule
    }

    // MARK: - Sections

    /// The items of `from`/`to`; an explicitly empty list is an error, as in Istio.
    private func nonEmptyList(_ rule: YAMLField, _ key: String, entry: String) -> [YAMLField]? {
        guard let field = rule.child(key) else { return nil }
        let items = reader.sequence(rule, key)
        if case .sequence = field.node, items.isEmpty {
            reader.error("must not be empty; remove \(key) to match any \(entry), or add an entry", at: field)
        }
        return items
    }

    /// The `source` or `operation` mapping of a `from`/`to` entry, which must be present and set a field.
    private func entryBody(_ entry: YAMLField, key: String) -> YAMLField? {
        guard reader.isMapping(entry) else { return nil }
        Self.warnUnknownKeys(entry, known: [key], reader: reader)
        guard let body = entry.child(key) else {
            reader.missing(key, in: entry, "each entry needs a \(key) with at least one field")
            return nil
        }
        guard reader.isMapping(body) else { return nil }
        let known = key == "source" ? Self.sourceKeys : Self.operationKeys
        Self.warnUnknownKeys(body, known: known, reader: reader)
        // A field of the wrong type counts as set: its own type error is the one to report.
        let populated = known.contains { name in
            guard let field = body.child(name) else { return false }
            if case .sequence(let values) = field.node { return !values.isEmpty }
            return true
        }
        if !populated {
            reader.error(
                "must set at least one of \(known.joined(separator: ", ")); remove the entry to match any \(key)",
                at: body)
        }
        return body
    }

    private mutating func source(_ body: YAMLField) -> AuthorizationPolicy.Source {
        var source = AuthorizationPolicy.Source()
        source.principals = strings(body, "principals")
        source.notPrincipals = strings(body, "notPrincipals")
        source.requestPrincipals = strings(body, "requestPrincipals")
        source.notRequestPrincipals = strings(body, "notRequestPrincipals")
        source.namespaces = strings(body, "namespaces")
        source.notNamespaces = strings(body, "notNamespaces")
        source.serviceAccounts = serviceAccounts(body, "serviceAccounts")
        source.notServiceAccounts = serviceAccounts(body, "notServiceAccounts")
        source.ipBlocks = blocks(body, "ipBlocks")
        source.notIpBlocks = blocks(body, "notIpBlocks")
        source.remoteIpBlocks = blocks(body, "remoteIpBlocks")
        source.notRemoteIpBlocks = blocks(body, "notRemoteIpBlocks")
        source.trustDomains = strings(body, "trustDomains")
        source.notTrustDomains = strings(body, "notTrustDomains")

        let identityFields = ["principals", "notPrincipals", "namespaces", "notNamespaces"]
            .filter { body.child($0) != nil }
        if let accounts = body.child("serviceAccounts") ?? body.child("notServiceAccounts"), !identityFields.isEmpty {
            reader.error(
                "cannot be combined with \(identityFields.joined(separator: ", ")) in the same source; "
                    + "put them in separate from entries", at: accounts)
        }
        if action == .custom {
            for key in Self.customForbiddenSourceKeys {
                if let field = body.child(key) {
                    reader.error(
                        "is not supported with action CUSTOM; the external authorizer decides on identity", at: field)
                }
            }
        }
        return source
    }

    private mutating func operation(_ body: YAMLField) -> AuthorizationPolicy.Operation {
        var operation = AuthorizationPolicy.Operation()
        operation.ports = ports(body, "ports")
        operation.notPorts = ports(body, "notPorts")
        operation.hosts = strings(body, "hosts")
        operation.notHosts = strings(body, "notHosts")
        operation.methods = strings(body, "methods")
        operation.notMethods = strings(body, "notMethods")
        operation.paths = paths(body, "paths")
        operation.notPaths = paths(body, "notPaths")
        return operation
    }

    private mutating func condition(_ item: YAMLField) -> AuthorizationPolicy.Condition? {
        guard reader.isMapping(item) else { return nil }
        Self.warnUnknownKeys(item, known: ["key", "values", "notValues"], reader: reader)
        guard let keyField = item.child("key") else {
            reader.missing("key", in: item, "name the attribute to test, e.g. source.ip")
            return nil
        }
        guard let key = reader.string(keyField) else { return nil }
        lines[keyField.path] = keyField.line
        let hasValues = !(item.child("values").map(\.items) ?? []).isEmpty
        let hasNotValues = !(item.child("notValues").map(\.items) ?? []).isEmpty
        if !hasValues && !hasNotValues {
            reader.log.error(
                file: reader.file, line: item.keyLine, object: reader.object, field: item.path,
                "at least one of values or notValues must be set for key \(key)")
        }
        let attribute: ConditionAttribute
        do {
            attribute = try ConditionAttribute(key: key)
        } catch {
            let message = key.isEmpty ? "must not be empty; name the attribute to test, e.g. source.ip" : error.message
            reader.error(message, at: keyField)
            return AuthorizationPolicy.Condition(key: key)
        }
        if action == .custom, [.sourceNamespace, .sourceServiceAccount, .sourcePrincipal].contains(attribute)
            || key.hasPrefix("request.auth.")
        {
            reader.error("key \(key) is not supported with action CUSTOM", at: keyField)
        }
        let values = conditionValues(item, "values", form: attribute.valueForm)
        let notValues = conditionValues(item, "notValues", form: attribute.valueForm)
        return AuthorizationPolicy.Condition(key: key, values: values, notValues: notValues)
    }

    private mutating func conditionValues(
        _ item: YAMLField, _ key: String, form: ConditionAttribute.ValueForm
    ) -> [String] {
        switch form {
        case .string: return strings(item, key)
        case .serviceAccount: return serviceAccounts(item, key)
        case .ipBlock: return values(item, key, problem: Self.blockProblem)
        case .port: return values(item, key, problem: Self.portProblem)
        }
    }

    // MARK: - Value lists

    /// The values of the list at `parent.key`: strings, non-empty, and accepted by `problem` (which returns
    /// the message for a bad value). Bad values are reported and left out; the list's line is recorded.
    private mutating func values(
        _ parent: YAMLField, _ key: String, problem: (String) -> String? = { _ in nil }
    ) -> [String] {
        guard let field = parent.child(key) else { return [] }
        lines[field.path] = field.keyLine
        var result: [String] = []
        for item in reader.sequence(parent, key) {
            guard let value = reader.string(item) else { continue }
            if value.isEmpty {
                reader.error("empty value not allowed; remove it or write a value", at: item)
            } else if let message = problem(value) {
                reader.error(message, at: item)
            } else {
                result.append(value)
            }
        }
        return result
    }

    private mutating func strings(_ parent: YAMLField, _ key: String) -> [String] {
        values(parent, key)
    }

    private mutating func blocks(_ parent: YAMLField, _ key: String) -> [IPPrefix] {
        values(parent, key, problem: Self.blockProblem).compactMap { IPPrefix(parsing: $0) }
    }

    private mutating func ports(_ parent: YAMLField, _ key: String) -> [UInt16] {
        values(parent, key, problem: Self.portProblem).compactMap(Self.port)
    }

    /// `serviceAccounts`: `ns/sa` or `sa`, no wildcards, at most 16 (istio `CheckServiceAccount`).
    private mutating func serviceAccounts(_ parent: YAMLField, _ key: String) -> [String] {
        if let field = parent.child(key), field.items.count > 16 {
            reader.error(
                "has \(field.items.count) values; at most 16 are allowed — split the source into several from "
                    + "entries", at: field)
        }
        return values(parent, key, problem: Self.serviceAccountProblem)
    }

    /// `paths`/`notPaths`: `{*}` and `{**}` must fill whole segments, `{**}` last (istio `CheckValidPathTemplate`).
    private mutating func paths(_ parent: YAMLField, _ key: String) -> [String] {
        values(parent, key) { path in
            Self.pathTemplateProblem(path).map { "\"\(path)\" is not a valid path template: \($0)" }
        }
    }

    // MARK: - Unknown fields

    /// Warns about each key of `mapping` that is not in `known`: Weft ignores it, as kubectl warns and the
    /// API server drops it, but in a policy a misspelt field silently widens or narrows a rule.
    static func warnUnknownKeys(_ mapping: YAMLField, known: [String], reader: ObjectReader) {
        reader.warnUnknownKeys(mapping, known: known)
    }

    // MARK: - Value checks

    static func blockProblem(_ text: String) -> String? {
        guard IPPrefix(parsing: text) == nil else { return nil }
        return "\"\(text)\" is not a CIDR or IP address; write an address such as 10.0.0.1 or fd00::1, or a block "
            + "such as 10.0.0.0/16 or fd00::/64"
    }

    static func portProblem(_ text: String) -> String? {
        guard port(text) == nil else { return nil }
        return "\"\(text)\" is not a port number; write a number between 0 and 65535 as a string, e.g. \"8080\""
    }

    /// Istio's port syntax: decimal digits, value 0…65535.
    static func port(_ text: String) -> UInt16? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let digits = text.drop { $0 == "0" }
        if digits.isEmpty { return 0 }
        guard digits.count <= 5, let value = UInt32(digits), value <= 65535 else { return nil }
        return UInt16(value)
    }

    static func serviceAccountProblem(_ value: String) -> String? {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        if value.contains("*") {
            return "\"\(value)\": wildcards are not allowed in service accounts; write <namespace>/<service-account> "
                + "or <service-account>"
        }
        if parts.count > 2 || parts.contains(where: \.isEmpty) {
            return "\"\(value)\" is not <namespace>/<service-account> or <service-account>"
        }
        if value.count > 320 { return "\"\(value.prefix(40))…\" is longer than 320 characters" }
        return nil
    }

    static func pathTemplateProblem(_ path: String) -> String? {
        let hasTemplate = path.contains("{*}") || path.contains("{**}")
        var sawMatchAny = false
        let literal: (Substring) -> Bool = { segment in
            segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~%!$&'()+,;:@=".contains($0)) }
                && !segment.isEmpty
        }
        for segment in path.trimmingSlashes.split(separator: "/", omittingEmptySubsequences: false) {
            if segment == "{*}" || segment == "{**}" {
                if sawMatchAny { return "{**} must be the last operator" }
                sawMatchAny = segment == "{**}"
                continue
            }
            if segment.contains("{") || segment.contains("}") {
                return "'{' and '}' may only appear as a whole {*} or {**} segment"
            }
            if hasTemplate && !literal(segment) {
                return "segment \"\(segment)\" has characters not allowed in a path template"
            }
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing `/`.
    fileprivate var trimmingSlashes: Substring {
        var slice = self[...]
        while slice.first == "/" { slice = slice.dropFirst() }
        while slice.last == "/" { slice = slice.dropLast() }
        return slice
    }
}
