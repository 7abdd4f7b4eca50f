// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftNode

@Suite("Upstream listener specs")
struct UpstreamSpecTests {
    @Test("parses source, listen address and each destination form")
    func parses() throws {
        let full = try UpstreamSpec(parsing: "demo/client@127.0.0.1:15100=echo.demo.svc.cluster.local:80")
        #expect(full.source == UpstreamSpec.WorkloadName(namespace: "demo", name: "client"))
        #expect(full.listen == hp("127.0.0.1:15100"))
        #expect(full.destination == .hostname("echo.demo.svc.cluster.local", port: 80))
        #expect(full.description == "demo/client@127.0.0.1:15100=echo.demo.svc.cluster.local:80")

        let bare = try UpstreamSpec(parsing: "[::1]:9000=10.0.0.2:8080")
        #expect(bare.source == nil)
        #expect(bare.listen == hp("[::1]:9000"))
        #expect(bare.destination == .address(hp("10.0.0.2:8080")))
    }

    @Test(
        "rejects malformed values and says what is wrong",
        arguments: [
            ("127.0.0.1:15100", "no '='"),
            ("demo@127.0.0.1:1=10.0.0.2:80", "is not <namespace>/<workload>"),
            ("a/b/c@127.0.0.1:1=10.0.0.2:80", "is not <namespace>/<workload>"),
            ("localhost:15100=10.0.0.2:80", "is not <ip>:<port>"),
            ("127.0.0.1:0=10.0.0.2:80", "is not <ip>:<port>"),
            ("127.0.0.1:1=echo.demo", "has no port"),
            ("127.0.0.1:1=echo.demo:0", "has no port"),
            ("127.0.0.1:1=ec ho:80", "neither an IP address nor a Service hostname"),
        ]
    )
    func rejects(value: String, problem: String) {
        #expect {
            try UpstreamSpec(parsing: value)
        } throws: { error in
            "\(error)".contains(problem) && "\(error)".contains(value)
        }
    }

    @Test("the source defaults to the only local workload and must be local")
    func source() throws {
        let local = snapshot.workloads(onNode: "a")
        let bare = try UpstreamSpec(parsing: "127.0.0.1:1=10.96.0.10:80")
        #expect(try bare.sourceWorkload(among: local).get().name == "client")
        #expect(throws: UpstreamError.self) { try bare.sourceWorkload(among: snapshot.workloads(onNode: "b")).get() }
        let foreign = try UpstreamSpec(parsing: "demo/echo-1@127.0.0.1:1=10.96.0.10:80")
        #expect(throws: UpstreamError.self) { try foreign.sourceWorkload(among: local).get() }
    }

    @Test("a Service hostname resolves to its VIP under the current configuration")
    func resolves() throws {
        let spec = try UpstreamSpec(parsing: "127.0.0.1:1=echo.demo.svc.cluster.local:80")
        #expect(try spec.resolve(in: snapshot).get() == hp("10.96.0.10:80"))
        let missing = try UpstreamSpec(parsing: "127.0.0.1:1=nope.demo.svc.cluster.local:80")
        #expect(throws: UpstreamError.self) { try missing.resolve(in: snapshot).get() }
    }
}
