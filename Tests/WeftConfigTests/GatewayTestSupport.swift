// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftConfig
import WeftModel

/// A waypoint Gateway in `namespace`, with the HBONE listener Istio gives every waypoint.
func waypointYAML(
    _ name: String = "waypoint", namespace: String = "shop", waypointFor: String? = nil, allowedFrom: String? = nil
) -> String {
    let labels = waypointFor.map { "\n  labels: {istio.io/waypoint-for: \($0)}" } ?? ""
    let allowed = allowedFrom.map { "\n    allowedRoutes: {namespaces: {from: \($0)}}" } ?? ""
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: \(name)
          namespace: \(namespace)\(labels)
        spec:
          gatewayClassName: istio-waypoint
          listeners:
          - name: mesh
            port: 15008
            protocol: HBONE\(allowed)
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)-pod
          namespace: \(namespace)
          labels: {gateway.networking.k8s.io/gateway-name: \(name)}
        status: {podIP: \(waypointIP(name, namespace: namespace))}
        """
}

/// A stable, distinct pod IP for each waypoint in the tests.
func waypointIP(_ name: String, namespace: String) -> String {
    let key = "\(namespace)/\(name)"
    return "10.9.\(key.utf8.count % 200).\(key.utf8.reduce(0) { ($0 &+ Int($1)) % 250 } + 1)"
}

/// A Service with one HTTP port, optional labels written inline.
func serviceYAML(_ name: String, namespace: String = "shop", port: Int = 9080, labels: String = "") -> String {
    let labelText = labels.isEmpty ? "" : ", labels: {\(labels)}"
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: \(name), namespace: \(namespace)\(labelText)}
        spec:
          ports: [{name: http, port: \(port)}]
        """
}

/// A Namespace with labels written inline.
func namespaceYAML(_ name: String, labels: String = "") -> String {
    """
    apiVersion: v1
    kind: Namespace
    metadata: {name: \(name), labels: {\(labels)}}
    """
}

/// Joins manifests into one multi-document source.
func documents(_ parts: String...) -> String { parts.joined(separator: "\n---\n") }

extension ManifestLoadResult {
    /// The printed errors only.
    var printedErrors: [String] { errors.map(\.description) }
    /// The printed warnings only.
    var printedWarnings: [String] { warnings.map(\.description) }
}

/// A deterministic generator for weighted backend draws (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
