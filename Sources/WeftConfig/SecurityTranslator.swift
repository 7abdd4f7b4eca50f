// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// Translates Istio `PeerAuthentication` objects (`security.istio.io`, `v1` and `v1beta1`) into
/// ``PeerAuthentication``s.
///
/// Reads `spec.selector.matchLabels` (an empty selector is no selector, as in Istio), `spec.mtls.mode`
/// (absent means `UNSET`) and `spec.portLevelMtls` (port number → `{mode: …}`). Istio ignores port-level
/// modes on a policy without a selector; Weft warns and drops them.
enum SecurityTranslator {
    /// The `mtls.mode` values Istio defines, in the order messages list them.
    static let modes = [PeerAuthentication.Mode.unset, .permissive, .strict, .disable].map(\.rawValue)

    /// Translates a PeerAuthentication. A missing `spec` is allowed: the policy then only has mode `UNSET`.
    static func translatePeerAuthentication(_ root: YAMLField, reader: inout ObjectReader) -> TranslatedObject? {
        guard
            let meta = ObjectMetadata.read(from: root, kind: "PeerAuthentication", namespaced: true, reader: &reader)
        else { return nil }
        var policy = PeerAuthentication(name: meta.name, namespace: meta.namespace, mode: .unset)
        let origin = ObjectOrigin(file: reader.file, line: meta.nameLine, object: reader.object)
        guard let spec = reader.mapping(root, "spec") else { return .peerAuthentication(policy, origin) }

        if let selector = reader.mapping(spec, "selector") {
            let labels = reader.stringMap(selector, "matchLabels")
            policy.selector = labels.isEmpty ? nil : LabelSelector(labels)
        }
        if let mtls = reader.mapping(spec, "mtls") {
            policy.mode = mode(in: mtls, reader: reader) ?? .unset
        }
        if let portLevel = reader.mapping(spec, "portLevelMtls") {
            let portModes = self.portModes(portLevel, reader: reader)
            if policy.selector == nil {
                reader.warning(
                    "portLevelMtls only applies to policies with a selector; it is ignored here — add "
                        + "spec.selector.matchLabels or remove portLevelMtls", at: portLevel)
            } else {
                policy.portModes = portModes
            }
        }
        return .peerAuthentication(policy, origin)
    }

    /// The `mode` of an `mtls` mapping (the policy's or a port's); `nil` when absent or invalid (reported).
    static func mode(in mtls: YAMLField, reader: ObjectReader) -> PeerAuthentication.Mode? {
        ServiceEntryTranslator.checkEnum(mtls, "mode", allowed: modes, reader: reader)
            .flatMap(PeerAuthentication.Mode.init(rawValue:))
    }

    /// `portLevelMtls`: each key a port number 1…65535 (written as a YAML integer or a string of digits),
    /// each value an `mtls` mapping. Bad keys and values are reported and left out.
    static func portModes(_ portLevel: YAMLField, reader: ObjectReader) -> [UInt16: PeerAuthentication.Mode] {
        var result: [UInt16: PeerAuthentication.Mode] = [:]
        for (key, value) in portLevel.entries {
            guard let port = port(fromKey: key) else {
                reader.log.error(
                    file: reader.file, line: value.keyLine, object: reader.object, field: value.path,
                    "port \"\(key)\" is not a port number; each portLevelMtls key must be a port between 1 and 65535")
                continue
            }
            if value.node.isNull {
                result[port] = .unset
            } else if reader.isMapping(value) {
                result[port] = mode(in: value, reader: reader) ?? .unset
            }
        }
        return result
    }

    /// The port a `portLevelMtls` key names: decimal digits only, 1…65535.
    static func port(fromKey key: String) -> UInt16? {
        guard !key.isEmpty, key.count <= 5, key.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = UInt16(key), value > 0
        else { return nil }
        return value
    }
}
