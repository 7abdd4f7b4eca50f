// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel

/// A Service's endpoints: its namespace's workloads its selector matches, plus inline endpoints; memoised per
/// snapshot without changing the answer.
@Suite("Service endpoints")
struct EndpointTests {
    static func pod(_ name: String, _ namespace: String, _ labels: [String: String], _ ip: UInt32) -> Workload {
        Workload(kind: .pod, name: name, namespace: namespace, labels: labels, addresses: [.v4(ip)])
    }

    static func service(_ namespace: String, _ selector: [String: String]?, inline: [Workload] = []) -> MeshService {
        MeshService(
            name: "web", namespace: namespace, hostname: "web.\(namespace).svc.cluster.local", vips: [.v4(0x0A60_0001)],
            ports: [ServicePort(port: 80)], selector: selector.map(LabelSelector.init), inlineEndpoints: inline
        )
    }

    @Test("selector in its own namespace, inline endpoints first, the same answer when asked again")
    func endpoints() {
        let workloads = [
            Self.pod("a", "shop", ["app": "web", "v": "1"], 1), Self.pod("b", "shop", ["app": "web", "v": "2"], 2),
            Self.pod("c", "other", ["app": "web"], 3), Self.pod("d", "shop", ["app": "db"], 4),
        ]
        let snapshot = MeshSnapshot(workloads: workloads)
        let web = Self.service("shop", ["app": "web"])
        for _ in 0..<3 { #expect(snapshot.endpoints(of: web).map(\.name) == ["a", "b"]) }
        // The same Service with another selector (a caller's modified copy) is not served from the memo.
        #expect(snapshot.endpoints(of: Self.service("shop", ["v": "2"])).map(\.name) == ["b"])
        #expect(snapshot.endpoints(of: Self.service("other", ["app": "web"])).map(\.name) == ["c"])
        let inline = Self.pod("e", "shop", [:], 5)
        #expect(snapshot.endpoints(of: Self.service("shop", ["app": "db"], inline: [inline])).map(\.name) == ["e", "d"])
        // No selector, or an empty one: no selected endpoints (Kubernetes semantics).
        #expect(snapshot.endpoints(of: Self.service("shop", nil)).isEmpty)
        #expect(snapshot.endpoints(of: Self.service("shop", [:])).isEmpty)
    }
}
