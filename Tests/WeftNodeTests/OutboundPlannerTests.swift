// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftNode

func ip(_ text: String) -> IPAddress { IPAddress(text)! }
func hp(_ text: String) -> HostPort { HostPort(parsing: text)! }

let snapshot: MeshSnapshot = {
    let pods = [
        Workload(kind: .pod, name: "client", namespace: "demo", labels: ["app": "client"], serviceAccount: "client", node: "a", addresses: [ip("10.0.0.1")]),
        Workload(kind: .pod, name: "echo-1", namespace: "demo", labels: ["app": "echo"], serviceAccount: "echo", node: "b", addresses: [ip("10.0.0.2")], namedPorts: ["web": 8080]),
        Workload(kind: .workloadEntry, name: "vm", namespace: "demo", labels: ["app": "echo"], serviceAccount: "vm", node: "b", addresses: [ip("10.0.0.3")], weight: 3, namedPorts: ["web": 9090]),
        Workload(kind: .pod, name: "other", namespace: "prod", labels: ["app": "echo"], serviceAccount: "x", node: "b", addresses: [ip("10.0.0.4")]),
    ]
    let services = [
        MeshService(name: "echo", namespace: "demo", hostname: "echo.demo.svc.cluster.local", vips: [ip("10.96.0.10")],
                    ports: [ServicePort(name: "http", port: 80, targetPort: .named("web")), ServicePort(port: 81, targetPort: .number(7000))],
                    selector: LabelSelector(["app": "echo"])),
        MeshService(name: "empty", namespace: "demo", hostname: "empty.demo.svc.cluster.local", vips: [ip("10.96.0.11")],
                    ports: [ServicePort(port: 80)], selector: LabelSelector(["app": "none"])),
    ]
    return MeshSnapshot(workloads: pods, services: services)
}()

@Suite("Outbound planner")
struct OutboundPlannerTests {
    let planner = OutboundPlanner()

    @Test("a pod IP is tunnelled to that pod's :15008 with the original port")
    func podIP() {
        let plan = planner.plan(destination: hp("10.0.0.2:5000"), snapshot: snapshot)
        guard case .hbone(let target) = plan else { Issue.record("expected hbone, got \(plan)"); return }
        #expect(target.nextHop == hp("10.0.0.2:15008"))
        #expect(target.authority == hp("10.0.0.2:5000"))
        #expect(target.destinationIdentity.uri == "spiffe://cluster.local/ns/demo/sa/echo")
        #expect(target.service == nil)
    }

    @Test("a Service VIP picks an endpoint in its namespace, weighted, and resolves named target ports")
    func serviceVIP() {
        // Candidates in order: echo-1 (weight 1), vm (weight 3); the other namespace's pod is not an endpoint.
        let first = planner.plan(destination: hp("10.96.0.10:80"), snapshot: snapshot) { total in
            #expect(total == 4)
            return 0
        }
        guard case .hbone(let a) = first else { Issue.record("expected hbone"); return }
        #expect(a.authority == hp("10.0.0.2:8080"))
        #expect(a.service?.name == "echo")
        let second = planner.plan(destination: hp("10.96.0.10:80"), snapshot: snapshot) { _ in 1 }
        guard case .hbone(let b) = second else { Issue.record("expected hbone"); return }
        #expect(b.authority == hp("10.0.0.3:9090"))
        #expect(b.nextHop == hp("10.0.0.3:15008"))
        let numbered = planner.plan(destination: hp("10.96.0.10:81"), snapshot: snapshot) { _ in 3 }
        guard case .hbone(let c) = numbered else { Issue.record("expected hbone"); return }
        #expect(c.authority == hp("10.0.0.3:7000"))
    }

    @Test("weights shape the distribution")
    func weights() {
        var counts: [String: Int] = [:]
        for _ in 0..<4000 {
            if case .hbone(let t) = planner.plan(destination: hp("10.96.0.10:80"), snapshot: snapshot) {
                counts[t.destination.name, default: 0] += 1
            }
        }
        #expect((800...1200).contains(counts["echo-1"] ?? 0))
        #expect((2800...3200).contains(counts["vm"] ?? 0))
    }

    @Test("unknown service port and no endpoints are refused; unknown addresses pass through")
    func refusals() {
        #expect(planner.plan(destination: hp("10.96.0.10:82"), snapshot: snapshot) == .reject("Service demo/echo has no port 82"))
        guard case .reject = planner.plan(destination: hp("10.96.0.11:80"), snapshot: snapshot) else {
            Issue.record("expected reject"); return
        }
        #expect(planner.plan(destination: hp("192.0.2.1:443"), snapshot: snapshot) == .passthrough(hp("192.0.2.1:443")))
    }
}

@Suite("Inbound policy")
struct InboundPolicyTests {
    let policy = InboundPolicy(node: "b")

    @Test(
        "authority checks in ztunnel's order",
        arguments: [
            ("10.0.0.2:8080", "10.0.0.2", 0),
            ("10.0.0.3:8080", "10.0.0.2", 400),  // not the address the connection arrived on
            ("10.0.0.1:8080", "10.0.0.1", 400),  // a workload of another node
            ("10.0.0.99:8080", "10.0.0.99", 400),  // not a workload at all
            ("10.0.0.2:15008", "10.0.0.2", 400),
            ("10.0.0.2:15001", "10.0.0.2", 400),
            ("10.0.0.2:15006", "10.0.0.2", 400),
            ("10.0.0.2:15080", "10.0.0.2", 400),
        ]
    )
    func check(_ authority: String, _ listener: String, _ status: Int) {
        let verdict = policy.check(authority: hp(authority), listenerIP: ip(listener), snapshot: snapshot)
        switch verdict {
        case .allow(let workload):
            #expect(status == 0)
            #expect(workload.name == "echo-1")
        case .reject(let got, let reason):
            #expect(got == status, "\(reason)")
        }
    }
}
