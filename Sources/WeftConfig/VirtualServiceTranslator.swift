// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute
import Yams

/// Translates an Istio `VirtualService` (`networking.istio.io/v1`, `v1beta1` or `v1alpha3`) into
/// WeftRoute's ``VirtualServiceSpec``: `hosts`, `gateways` and the `http` rules.
///
/// Type errors, malformed durations (``IstioDuration``) and missing hosts are reported here; what
/// compiling reveals (regular expressions, weights, `retryOn`, status codes, percentages, minimum
/// durations) is reported by ``TrafficPolicyAssembler`` from ``VirtualServiceTable``. Every list entry is
/// kept, even one in error, so model indices are manifest indices. `tcp`, `tls` and the HTTP features
/// Weft does not implement are ignored with a warning.
enum VirtualServiceTranslator {
    static let kind = "VirtualService"
    static let ruleKeys = [
        "name", "match", "route", "redirect", "rewrite", "timeout", "retries", "fault", "mirror", "mirrorPercentage",
        "headers",
    ]
    static let unsupportedRuleKeys = ["directResponse", "delegate", "corsPolicy", "mirrors", "mirror_percent"]
    static let matchKeys = ["name", "uri", "ignoreUriCase", "method", "headers", "queryParams"]
    static let unsupportedMatchKeys = [
        "scheme", "authority", "withoutHeaders", "port", "sourceLabels", "sourceNamespace", "gateways", "statPrefix",
    ]

    static func translate(_ root: YAMLField, apiVersion: String, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: kind, namespaced: true, reader: &reader) else {
            return nil
        }
        guard
            RouteFieldReader.checkVersion(
                apiVersion, kind: kind, allowed: IstioFieldReader.versions, root: root, reader: reader)
        else { return nil }
        let fields = IstioFieldReader(reader: reader)
        var spec = VirtualServiceSpec(
            namespace: meta.namespace, name: meta.name, hosts: [], http: [],
            location: "\(reader.file):\(meta.nameLine)")
        if let specField = reader.mapping(root, "spec") {
            fields.checkKeys(specField, known: ["hosts", "gateways", "http", "exportTo"], unsupported: ["tcp", "tls"])
            spec.hosts = reader.sequence(specField, "hosts").compactMap(reader.string)
            if spec.hosts.isEmpty {
                reader.missing("hosts", in: specField, "list the Service hosts the rules apply to, e.g. [reviews]")
            }
            spec.gateways = reader.sequence(specField, "gateways").compactMap(reader.string)
            spec.http = reader.sequence(specField, "http").map { rule($0, fields: fields) }
        }
        let origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        return .virtualService(spec, FieldLines(root), origin)
    }

    private static func rule(_ item: YAMLField, fields: IstioFieldReader) -> VirtualServiceRule {
        let reader = fields.reader
        var rule = VirtualServiceRule()
        guard reader.isMapping(item) else { return rule }
        fields.checkKeys(item, known: ruleKeys, unsupported: unsupportedRuleKeys)
        rule.name = reader.string(item, "name")
        rule.match = reader.sequence(item, "match").map { match($0, fields: fields) }
        rule.route = reader.sequence(item, "route").map { entry in
            guard reader.isMapping(entry) else { return .init(.init(host: "")) }
            fields.checkKeys(entry, known: ["destination", "weight", "headers"])
            let destination = entry.child("destination").map(fields.destination)
            if destination == nil {
                reader.missing("destination", in: entry, "add destination: {host: <service>}")
            }
            let weight = entry.child("weight").flatMap { reader.integer($0, in: Int(Int32.min)...Int(Int32.max)) }
            return .init(
                destination ?? .init(host: ""), weight: weight, headers: fields.headerOperations(entry))
        }
        if let field = reader.mapping(item, "redirect") {
            fields.checkKeys(
                field, known: ["uri", "authority", "redirectCode"],
                unsupported: ["prefixRewrite", "port", "derivePort", "scheme"])
            rule.redirect = VirtualServiceRule.Redirect(
                uri: reader.string(field, "uri"), authority: reader.string(field, "authority"),
                redirectCode: reader.integer(field, "redirectCode", in: 0...999) ?? 301)
        }
        if let field = reader.mapping(item, "rewrite") {
            fields.checkKeys(field, known: ["uri", "authority"], unsupported: ["uriRegexRewrite"])
            rule.rewrite = VirtualServiceRule.Rewrite(
                uri: reader.string(field, "uri"), authority: reader.string(field, "authority"))
        }
        rule.timeout = fields.duration(item, "timeout")
        if let field = reader.mapping(item, "retries") {
            fields.checkKeys(
                field, known: ["attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "backoff"],
                unsupported: ["retryIgnorePreviousHosts"])
            _ = reader.bool(field, "retryRemoteLocalities")
            rule.retries = VirtualServiceRule.Retries(
                attempts: reader.integer(field, "attempts", in: Int(Int32.min)...Int(Int32.max)),
                perTryTimeout: fields.duration(field, "perTryTimeout"), retryOn: reader.string(field, "retryOn"),
                backoff: fields.duration(field, "backoff"))
        }
        if let field = reader.mapping(item, "fault") { rule.fault = fault(field, fields: fields) }
        rule.mirror = item.child("mirror").map(fields.destination)
        rule.mirrorPercentage = fields.percentage(item, "mirrorPercentage")
        rule.headers = fields.headerOperations(item)
        return rule
    }

    private static func fault(_ field: YAMLField, fields: IstioFieldReader) -> VirtualServiceRule.Fault {
        let reader = fields.reader
        fields.checkKeys(field, known: ["delay", "abort"])
        var fault = VirtualServiceRule.Fault()
        if let delay = reader.mapping(field, "delay") {
            fields.checkKeys(delay, known: ["fixedDelay", "percentage"], unsupported: ["exponentialDelay", "percent"])
            if delay.child("fixedDelay") == nil {
                reader.missing("fixedDelay", in: delay, "set the delay, e.g. fixedDelay: 5s")
            }
            fault.delay = .init(
                fixedDelay: fields.duration(delay, "fixedDelay") ?? .milliseconds(1),
                percentage: fields.percentage(delay, "percentage"))
        }
        if let abort = reader.mapping(field, "abort") {
            fields.checkKeys(abort, known: ["httpStatus", "grpcStatus", "percentage"], unsupported: ["http2Error"])
            var grpcStatus: Int?
            if let field = abort.child("grpcStatus") {
                if abort.child("httpStatus") != nil {
                    reader.error("set httpStatus or grpcStatus, not both", at: field)
                }
                let names = VirtualServiceRule.Fault.Abort.grpcStatusNames
                if let name = reader.string(field) {
                    grpcStatus = names.firstIndex(of: name.uppercased()) ?? Int(name).flatMap { (0...16).contains($0) ? $0 : nil }
                    if grpcStatus == nil {
                        reader.error(
                            "unknown gRPC status \"\(name)\"; use a name such as UNAVAILABLE (\(names.joined(separator: ", "))) or a code 0-16",
                            at: field)
                    }
                }
            } else if abort.child("httpStatus") == nil {
                reader.missing("httpStatus", in: abort, "set the status to answer with, e.g. httpStatus: 503 (or grpcStatus: UNAVAILABLE)")
            }
            let status = abort.child("httpStatus").flatMap { reader.integer($0, in: Int(Int32.min)...Int(Int32.max)) }
            fault.abort = .init(
                httpStatus: status ?? (grpcStatus == nil ? 503 : 200), grpcStatus: grpcStatus,
                percentage: fields.percentage(abort, "percentage"))
        }
        return fault
    }

    private static func match(_ item: YAMLField, fields: IstioFieldReader) -> VirtualServiceMatch {
        let reader = fields.reader
        var match = VirtualServiceMatch()
        guard reader.isMapping(item) else { return match }
        fields.checkKeys(item, known: matchKeys, unsupported: unsupportedMatchKeys)
        match.name = reader.string(item, "name")
        match.uri = item.child("uri").flatMap(fields.stringMatch)
        match.ignoreUriCase = reader.bool(item, "ignoreUriCase") ?? false
        match.method = item.child("method").flatMap(fields.stringMatch)
        for key in ["headers", "queryParams"] {
            guard let map = reader.mapping(item, key) else { continue }
            let entries = map.entries.map { entry in
                VirtualServiceMatch.NamedMatch(entry.key, fields.stringMatch(entry.value))
            }
            if key == "headers" { match.headers = entries } else { match.queryParams = entries }
        }
        return match
    }
}
