// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
//
// Manifest loading: `ManifestLoader.load(sources:)` on a generated cluster (namespaces, pods with labels, IPs,
// nodeName and named ports, services selecting them). The YAML is generated once per benchmark, in setup; each
// iteration parses it, translates every object, runs the cross-object checks and builds the snapshot.

import Benchmark
import BenchmarkSupport
import WeftConfig
import WeftModel

let benchmarks: @Sendable () -> Void = {
    for shape in [ClusterShape(pods: 10_000), ClusterShape(pods: 1_000)] {
        Benchmark(
            "ManifestLoader.load \(shape.pods) pods, \(shape.services) services",
            configuration: .weft(
                timeUnits: .milliseconds,
                maxDuration: .seconds(shape.pods >= 10_000 ? 20 : 8),
                maxIterations: shape.pods >= 10_000 ? 15 : 100
            )
        ) { benchmark, sources in
            let cpu = CPUStopwatch()
            let result = ManifestLoader.load(sources: sources, trustDomain: "cluster.local")
            cpu.record(in: benchmark)
            // Cheap checks on every iteration: a loader that silently dropped objects would look fast.
            guard let snapshot = result.snapshot, result.diagnostics.isEmpty,
                snapshot.workloads.count == shape.pods, snapshot.services.count == shape.services
            else {
                benchmark.error("unexpected load result: \(ClusterShape.describe(result))")
                return
            }
            blackHole(snapshot)
        } setup: {
            let sources = shape.sources()
            try shape.validate(ManifestLoader.load(sources: sources, trustDomain: "cluster.local"))
            return sources
        }
    }
}

/// A generated cluster: `namespaces` namespaces, `services` services spread over them (each selecting
/// `app: app-<k>`), and `pods` pods spread evenly over the services, on `nodes` nodes.
struct ClusterShape: Sendable {
    var pods: Int
    var services = 100
    var namespaces = 10
    var nodes = 20

    /// One source per namespace, as `kubectl get -A -o yaml` split by namespace would give: the Namespace, its
    /// Services, then its Pods.
    func sources() -> [(name: String, text: String)] {
        (0..<namespaces).map { ns in
            var text = """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: ns-\(ns)
                  labels:
                    istio.io/dataplane-mode: ambient

                """
            for service in stride(from: ns, to: services, by: namespaces) {
                text += serviceYAML(service)
            }
            for pod in 0..<pods where namespace(ofService: pod % services) == ns {
                text += podYAML(pod)
            }
            return (name: "ns-\(ns).yaml", text: text)
        }
    }

    func namespace(ofService service: Int) -> Int { service % namespaces }

    func serviceYAML(_ k: Int) -> String {
        """
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: app-\(k)
          namespace: ns-\(namespace(ofService: k))
          labels:
            app: app-\(k)
        spec:
          clusterIP: 10.96.\(k / 250).\(k % 250 + 1)
          selector:
            app: app-\(k)
          ports:
          - name: http
            port: 80
            targetPort: http
          - name: grpc-api
            port: 9000
            targetPort: 9000

        """
    }

    func podYAML(_ i: Int) -> String {
        let k = i % services
        // 10.<1 + i / 65536>.<i / 256 % 256>.<i % 256>: unique for any pod count used here.
        let ip = "10.\(1 + i / 65_536).\(i / 256 % 256).\(i % 256)"
        return """
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: app-\(k)-\(i)
              namespace: ns-\(namespace(ofService: k))
              labels:
                app: app-\(k)
                version: v\(i % 3 + 1)
                pod-template-hash: 7d9f\(k)c
              annotations:
                kubectl.kubernetes.io/default-container: app
            spec:
              serviceAccountName: sa-app-\(k)
              nodeName: node-\(i % nodes)
              containers:
              - name: app
                image: registry.example/app-\(k):1.0
                ports:
                - name: http
                  containerPort: 8080
                  protocol: TCP
                - name: metrics
                  containerPort: 9090
            status:
              phase: Running
              podIP: \(ip)
              podIPs:
              - ip: \(ip)

            """
    }

    /// Checks, once per benchmark, that the generated manifest loads into exactly what was generated.
    func validate(_ result: ManifestLoadResult) throws {
        guard let snapshot = result.snapshot, result.diagnostics.isEmpty else {
            throw BenchmarkCheckFailed("generated manifest does not load cleanly: \(Self.describe(result))")
        }
        guard snapshot.workloads.count == pods, snapshot.services.count == services,
            snapshot.namespaces.count == namespaces, snapshot.workloadsByIP.count == pods,
            snapshot.servicesByVIP.count == services
        else {
            throw BenchmarkCheckFailed("generated manifest loaded as \(Self.describe(result))")
        }
        for service in snapshot.services where snapshot.endpoints(of: service).count != pods / services {
            throw BenchmarkCheckFailed("service \(service.name) selects \(snapshot.endpoints(of: service).count) pods")
        }
    }

    static func describe(_ result: ManifestLoadResult) -> String {
        let counts = result.snapshot.map {
            "\($0.workloads.count) workloads, \($0.services.count) services, \($0.namespaces.count) namespaces"
        } ?? "no snapshot"
        let first = result.diagnostics.prefix(3).map { "\($0)" }.joined(separator: "; ")
        return "\(counts), \(result.diagnostics.count) diagnostics\(first.isEmpty ? "" : ": \(first)")"
    }
}
