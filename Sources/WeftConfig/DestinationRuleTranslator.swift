// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute
import Yams

/// Translates an Istio `DestinationRule` (`networking.istio.io/v1`, `v1beta1` or `v1alpha3`) into
/// WeftRoute's ``DestinationRuleSpec``: `host`, `trafficPolicy` and `subsets`.
///
/// Errors: a missing `host` or subset `name`, a repeated subset name, an unknown `simple` policy, more
/// than one `consistentHash` key or algorithm, a Maglev table size that is not prime, percentages outside
/// 0–100, malformed or negative durations, and ports outside 1–65535. `tls`, `tunnel`, `proxyProtocol`,
/// `retryBudget`, `exportTo` and `workloadSelector` are ignored with a warning.
enum DestinationRuleTranslator {
    static let kind = "DestinationRule"
    static let policyKeys = ["loadBalancer", "connectionPool", "outlierDetection", "portLevelSettings"]
    static let unsupportedPolicyKeys = ["tls", "tunnel", "proxyProtocol", "retryBudget"]

    static func translate(_ root: YAMLField, apiVersion: String, reader: inout ObjectReader) -> TranslatedObject? {
        guard let meta = ObjectMetadata.read(from: root, kind: kind, namespaced: true, reader: &reader) else {
            return nil
        }
        guard
            RouteFieldReader.checkVersion(
                apiVersion, kind: kind, allowed: IstioFieldReader.versions, root: root, reader: reader)
        else { return nil }
        let fields = IstioFieldReader(reader: reader)
        var spec = DestinationRuleSpec(namespace: meta.namespace, name: meta.name, host: "")
        guard let specField = reader.mapping(root, "spec") else {
            reader.missing("spec", in: root, "a DestinationRule needs spec.host")
            return nil
        }
        fields.checkKeys(
            specField, known: ["host", "trafficPolicy", "subsets"], unsupported: ["exportTo", "workloadSelector"])
        spec.host = reader.requiredString(specField, "host", "name the Service host, e.g. reviews") ?? ""
        spec.trafficPolicy = reader.mapping(specField, "trafficPolicy").map { policy($0, fields: fields) }
        var seen: Set<String> = []
        for item in reader.sequence(specField, "subsets") where reader.isMapping(item) {
            fields.checkKeys(item, known: ["name", "labels", "trafficPolicy"])
            guard let name = reader.requiredString(item, "name", "name the subset, e.g. v1") else { continue }
            if !seen.insert(name).inserted, let field = item.child("name") {
                reader.error("subset \(name) is defined twice; subset names must be unique", at: field)
            }
            spec.subsets.append(
                .init(
                    name: name, labels: reader.stringMap(item, "labels"),
                    trafficPolicy: reader.mapping(item, "trafficPolicy").map { policy($0, fields: fields) }))
        }
        let origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        return .destinationRule(spec, FieldLines(root), origin)
    }

    private static func policy(_ field: YAMLField, fields: IstioFieldReader) -> TrafficPolicy {
        fields.checkKeys(field, known: policyKeys, unsupported: unsupportedPolicyKeys)
        var policy = TrafficPolicy(settings: settings(field, fields: fields))
        for item in fields.reader.sequence(field, "portLevelSettings") where fields.reader.isMapping(item) {
            fields.checkKeys(item, known: ["port"] + policyKeys.dropLast(), unsupported: ["tls"])
            guard let port = fields.reader.mapping(item, "port") else {
                fields.reader.missing("port", in: item, "add port: {number: <port>}")
                continue
            }
            fields.checkKeys(port, known: ["number"])
            guard let numberField = port.child("number") else {
                fields.reader.missing("number", in: port, "add the port number")
                continue
            }
            guard let number = fields.reader.port(numberField) else { continue }
            policy.portLevelSettings.append(.init(port: number, settings: settings(item, fields: fields)))
        }
        return policy
    }

    private static func settings(_ field: YAMLField, fields: IstioFieldReader) -> TrafficPolicy.Settings {
        TrafficPolicy.Settings(
            loadBalancer: fields.reader.mapping(field, "loadBalancer").map { loadBalancer($0, fields: fields) },
            connectionPool: fields.reader.mapping(field, "connectionPool").map { connectionPool($0, fields: fields) },
            outlierDetection: fields.reader.mapping(field, "outlierDetection").map {
                outlierDetection($0, fields: fields)
            })
    }

    private static func loadBalancer(_ field: YAMLField, fields: IstioFieldReader) -> LoadBalancerSettings {
        let reader = fields.reader
        fields.checkKeys(
            field, known: ["simple", "consistentHash"],
            unsupported: ["localityLbSetting", "warmup", "warmupDurationSecs"])
        var settings = LoadBalancerSettings()
        let names = LoadBalancerSettings.Simple.allCases.map(\.rawValue)
        settings.simple = ServiceEntryTranslator.checkEnum(field, "simple", allowed: names, reader: reader)
            .flatMap(LoadBalancerSettings.Simple.init(rawValue:))
        if field.child("simple") != nil && field.child("consistentHash") != nil {
            reader.error("set simple or consistentHash, not both", at: field)
        }
        guard let hash = reader.mapping(field, "consistentHash") else { return settings }
        let keyNames = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"]
        fields.checkKeys(hash, known: keyNames + ["ringHash", "maglev"], unsupported: ["minimumRingSize"])
        let keys = keyNames.filter { hash.child($0) != nil }
        if keys.count != 1 {
            let problem = keys.isEmpty ? "no hash key" : "\(keys.count) hash keys (\(keys.joined(separator: ", ")))"
            reader.error(
                "consistentHash has \(problem); set exactly one of \(keyNames.joined(separator: ", "))", at: hash)
        }
        var key = LoadBalancerSettings.ConsistentHash.Key.useSourceIp
        if let name = reader.string(hash, "httpHeaderName") {
            key = .httpHeaderName(name)
        } else if let cookie = reader.mapping(hash, "httpCookie") {
            fields.checkKeys(cookie, known: ["name", "path", "ttl"], unsupported: ["attributes"])
            key = .httpCookie(
                name: reader.requiredString(cookie, "name", "name the cookie") ?? "",
                path: reader.string(cookie, "path"), ttl: fields.duration(cookie, "ttl"))
        } else if let name = reader.string(hash, "httpQueryParameterName") {
            key = .httpQueryParameterName(name)
        } else {
            _ = reader.bool(hash, "useSourceIp")
        }
        var algorithm: LoadBalancerSettings.ConsistentHash.Algorithm?
        if hash.child("ringHash") != nil && hash.child("maglev") != nil {
            reader.error("set ringHash or maglev, not both", at: hash)
        }
        if let ring = reader.mapping(hash, "ringHash") {
            fields.checkKeys(ring, known: ["minimumRingSize"])
            algorithm = .ringHash(minimumRingSize: reader.integer(ring, "minimumRingSize", in: 1...8_388_608) ?? 1024)
        } else if let maglev = reader.mapping(hash, "maglev") {
            fields.checkKeys(maglev, known: ["tableSize"])
            var size = 65537
            if let sizeField = maglev.child("tableSize"), let value = reader.integer(sizeField, in: 2...5_000_011) {
                if isPrime(value) {
                    size = value
                } else {
                    reader.error(
                        "maglev tableSize \(value) is not a prime number; use a prime such as 65537", at: sizeField)
                }
            }
            algorithm = .maglev(tableSize: size)
        }
        settings.consistentHash = .init(key: key, algorithm: algorithm)
        return settings
    }

    private static func connectionPool(_ field: YAMLField, fields: IstioFieldReader) -> ConnectionPoolSettings {
        let reader = fields.reader
        fields.checkKeys(field, known: ["tcp", "http"])
        var settings = ConnectionPoolSettings()
        if let tcp = reader.mapping(field, "tcp") {
            fields.checkKeys(
                tcp, known: ["maxConnections"],
                unsupported: ["connectTimeout", "tcpKeepalive", "maxConnectionDuration", "idleTimeout"])
            settings.maxConnections = fields.count(tcp, "maxConnections")
        }
        if let http = reader.mapping(field, "http") {
            fields.checkKeys(
                http, known: ["http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries"],
                unsupported: ["idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams"])
            settings.http1MaxPendingRequests = fields.count(http, "http1MaxPendingRequests")
            settings.http2MaxRequests = fields.count(http, "http2MaxRequests")
            settings.maxRequestsPerConnection = fields.count(http, "maxRequestsPerConnection")
            settings.maxRetries = fields.count(http, "maxRetries")
        }
        return settings
    }

    private static func outlierDetection(_ field: YAMLField, fields: IstioFieldReader) -> OutlierDetectionSettings {
        let reader = fields.reader
        fields.checkKeys(
            field,
            known: [
                "consecutive5xxErrors", "consecutiveGatewayErrors", "interval", "baseEjectionTime",
                "maxEjectionPercent", "minHealthPercent",
            ],
            unsupported: [
                "splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures", "consecutiveErrors",
                "outlierDetectionHttpErrorCodes",
            ])
        return OutlierDetectionSettings(
            consecutive5xxErrors: fields.count(field, "consecutive5xxErrors"),
            consecutiveGatewayErrors: fields.count(field, "consecutiveGatewayErrors"),
            interval: positive(field, "interval", fields: fields),
            baseEjectionTime: positive(field, "baseEjectionTime", fields: fields),
            maxEjectionPercent: reader.integer(field, "maxEjectionPercent", in: 0...100),
            minHealthPercent: reader.integer(field, "minHealthPercent", in: 0...100))
    }

    /// A duration that must be more than zero.
    private static func positive(_ parent: YAMLField, _ key: String, fields: IstioFieldReader) -> Duration? {
        guard let value = fields.duration(parent, key) else { return nil }
        if value == .zero, let field = parent.child(key) {
            fields.reader.error("must be more than 0s", at: field)
            return nil
        }
        return value
    }

    static func isPrime(_ value: Int) -> Bool {
        guard value >= 2 else { return false }
        var divisor = 2
        while divisor * divisor <= value {
            if value % divisor == 0 { return false }
            divisor += 1
        }
        return true
    }
}
