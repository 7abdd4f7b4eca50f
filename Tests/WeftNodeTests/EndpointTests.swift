// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOHTTP1
import Testing
import WeftModel
@testable import WeftNode

private struct BindFailed: Error {}

@Suite("Admin, metrics and readiness endpoints")
struct EndpointTests {
    @Test("endpoint addresses: ip:port, [v6]:port or off; admin is loopback only")
    func addresses() throws {
        #expect(try EndpointAddress.parse("off", option: "--x") == nil)
        #expect(try EndpointAddress.parse("127.0.0.9:15000", option: "--x", loopbackOnly: true)?.port == 15000)
        #expect(try EndpointAddress.parse("[::1]:15000", option: "--x", loopbackOnly: true) != nil)
        #expect(try EndpointAddress.parse("0.0.0.0:15020", option: "--x")?.port == 15020)
        #expect(throws: EndpointAddress.ParseError.self) { try EndpointAddress.parse("10.0.0.1:15000", option: "--x", loopbackOnly: true) }
        #expect(throws: EndpointAddress.ParseError.self) { try EndpointAddress.parse("localhost:15000", option: "--x") }
        do {
            _ = try EndpointAddress.parse("0.0.0.0:15000", option: "--admin-address", loopbackOnly: true)
        } catch {
            #expect(error.description.contains("--admin-address: 0.0.0.0:15000 is not a loopback address"))
        }
    }

    @Test("requests: path, query and percent-decoding")
    func requests() {
        let r = EndpointRequest(method: .POST, uri: "/logging?level=access%3Doff&x=a+b&flag")
        #expect(r.path == "/logging")
        #expect(r.query["level"] == "access=off")
        #expect(r.query["x"] == "a b")
        #expect(r.query["flag"] == "")
        #expect(EndpointRequest(method: .GET, uri: "/config_dump").query.isEmpty)
    }

    @Test("readiness: every missing step is named; draining makes it unready again")
    func readiness() {
        let readiness = Readiness()
        #expect(readiness.notReadyReasons?.count == 3)
        readiness.configurationLoaded()
        readiness.certificatesIssued()
        let bound = readiness.listener("hbone demo/echo 10.0.0.2")
        readiness.podsReconciled()
        #expect(readiness.notReadyReasons == ["listener not bound yet: hbone demo/echo 10.0.0.2"])
        bound(.failure(BindFailed()))
        #expect(readiness.notReadyReasons == ["listener failed to bind: hbone demo/echo 10.0.0.2"])
        let other = Readiness()
        other.configurationLoaded()
        other.certificatesIssued()
        other.podsReconciled()
        #expect(other.notReadyReasons == nil)
        other.draining()
        #expect(other.notReadyReasons == ["draining (shutting down)"])
    }
}
