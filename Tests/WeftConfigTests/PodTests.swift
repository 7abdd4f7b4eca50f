// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel

@Suite struct PodTests {
    @Test func readsEveryField() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: web-0
              namespace: shop
              labels:
                app: web
                app.kubernetes.io/version: "1.2"
              annotations:
                note: hello
            spec:
              serviceAccountName: web-sa
              nodeName: node-a
              containers:
              - name: app
                ports:
                - name: http
                  containerPort: 8080
                - containerPort: 9090
                - name: dns
                  containerPort: 53
                  protocol: UDP
              - name: sidecar
                ports:
                - name: metrics
                  containerPort: 15020
            status:
              podIP: 10.1.0.5
              podIPs:
              - ip: 10.1.0.5
              - ip: fd00::5
            """)
        #expect(result.diagnostics.isEmpty)
        let snapshot = try #require(result.snapshot)
        let pod = try #require(snapshot.workloads.first)
        #expect(snapshot.workloads.count == 1)
        #expect(pod.kind == .pod)
        #expect(pod.uid == "Pod/shop/web-0")
        #expect(pod.labels == ["app": "web", "app.kubernetes.io/version": "1.2"])
        #expect(pod.annotations == ["note": "hello"])
        #expect(pod.serviceAccount == "web-sa")
        #expect(pod.node == "node-a")
        #expect(pod.addresses == [ip("10.1.0.5"), ip("fd00::5")])
        #expect(pod.weight == 1)
        #expect(pod.namedPorts == ["http": 8080, "metrics": 15020])
        #expect(snapshot.workloadsByIP[ip("fd00::5")]?.name == "web-0")
        #expect(snapshot.identity(of: pod).uri == "spiffe://cluster.local/ns/shop/sa/web-sa")
    }

    @Test func defaults() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: bare
            status:
              podIP: 10.1.0.6
            """)
        let pod = try #require(result.snapshot?.workloads.first)
        #expect(pod.namespace == "default")
        #expect(pod.serviceAccount == "default")
        #expect(pod.node == nil)
        #expect(pod.labels.isEmpty && pod.annotations.isEmpty && pod.namedPorts.isEmpty)
    }

    @Test func deprecatedServiceAccountAndTrustDomain() throws {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata: {name: old, namespace: legacy}
            spec: {serviceAccount: legacy-sa}
            status: {podIP: 10.1.0.7}
            """
        let result = ManifestLoader.load(sources: [(name: "p.yaml", text: text)], trustDomain: "example.org")
        let snapshot = try #require(result.snapshot)
        let pod = try #require(snapshot.workloads.first)
        #expect(pod.serviceAccount == "legacy-sa")
        #expect(snapshot.trustDomain == "example.org")
        #expect(snapshot.identity(of: pod).uri == "spiffe://example.org/ns/legacy/sa/legacy-sa")
    }

    @Test func podIPsWithoutPodIPUseFirstAsPrimary() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: dual}
            status:
              podIPs: [{ip: "fd00::9"}, {ip: 10.1.0.9}, {ip: "fd00::9"}]
            """)
        #expect(try #require(result.snapshot?.workloads.first).addresses == [ip("fd00::9"), ip("10.1.0.9")])
    }

    @Test func podWithoutIPIsKeptWithWarning() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: pending
            status:
              phase: Pending
            """, file: "p.yaml")
        #expect(result.printed == [
            "p.yaml:5: Pod/default/pending: status.podIP: warning: pod has no IP address, so it cannot receive "
                + "traffic; load it with its status (kubectl get pod -o yaml) once it is running"
        ])
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.workloads.map(\.name) == ["pending"])
        #expect(snapshot.workloads[0].addresses.isEmpty)
        #expect(snapshot.workloadsByIP.isEmpty)
    }

    @Test func hostNetworkAndFinishedPodsGetNoAddresses() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: proxy-a, namespace: kube-system}
            spec: {hostNetwork: true, nodeName: node-a}
            status: {podIP: 192.168.1.10}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: proxy-b, namespace: kube-system}
            spec: {hostNetwork: true, nodeName: node-a}
            status: {podIP: 192.168.1.10}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: job-1}
            status: {phase: Succeeded, podIP: 10.1.0.20}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            status: {phase: Running, podIP: 10.1.0.20}
            """)
        #expect(result.diagnostics.isEmpty)
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.workloads.count == 4)
        #expect(snapshot.workloadsByIP.count == 1)
        #expect(snapshot.workloadsByIP[ip("10.1.0.20")]?.name == "web")
    }

    @Test func invalidIPIsAnErrorAtThatField() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: bad
            status:
              podIP: 10.1.0.1
              podIPs:
              - ip: 10.1.0.1
              - ip: 10.1.0.300
            """, file: "p.yaml")
        let diagnostic = try #require(result.single)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.line == 9)
        #expect(diagnostic.object == "Pod/default/bad")
        #expect(diagnostic.field == "status.podIPs[1].ip")
        #expect(diagnostic.message.hasPrefix("\"10.1.0.300\" is not a valid IP address"))
        #expect(result.snapshot == nil)
    }

    @Test func containerPortOutOfRange() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: c
                ports:
                - name: http
                  containerPort: 70000
            status: {podIP: 10.1.0.2}
            """)
        let diagnostic = try #require(result.single)
        #expect(diagnostic.line == 9)
        #expect(diagnostic.field == "spec.containers[0].ports[0].containerPort")
        #expect(diagnostic.message == "must be an integer between 1 and 65535, got 70000")
    }

    @Test func labelsMustBeStringToString() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              labels:
                app: web
                version: 2
                canary: true
            status: {podIP: 10.1.0.3}
            """)
        #expect(result.diagnostics.map(\.line) == [7, 8])
        #expect(result.diagnostics.map(\.field) == ["metadata.labels.version", "metadata.labels.canary"])
        #expect(result.diagnostics[0].message == "must be a string, got integer 2; quote it: \"2\"")
        #expect(result.diagnostics[1].message == "must be a string, got boolean true; quote it: \"true\"")
    }

    @Test func labelsThatAreNotAMapping() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              labels:
              - app
            status: {podIP: 10.1.0.3}
            """)
        let diagnostic = try #require(result.single)
        #expect(diagnostic.line == 5)
        #expect(diagnostic.field == "metadata.labels")
        #expect(diagnostic.message == "must be a mapping of string keys to string values, got a list")
    }

    @Test func invalidServiceAccountAndNamespace() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              namespace: Shop_Floor
            spec:
              serviceAccountName: "web/admin"
            status: {podIP: 10.1.0.3}
            """)
        #expect(result.diagnostics.map(\.line) == [5, 7])
        #expect(result.diagnostics.map(\.field) == ["metadata.namespace", "spec.serviceAccountName"])
        #expect(result.diagnostics[0].message.hasPrefix("namespace \"Shop_Floor\" is not a valid RFC 1123 label"))
    }
}
