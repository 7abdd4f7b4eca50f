// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOHPACK
import Testing
import WeftHBONE
import WeftModel

@Suite("HBONE request head")
struct HBONERequestTests {
    @Test("a client head is a plain CONNECT with ztunnel's headers")
    func build() throws {
        let request = HBONERequest(
            authority: try #require(HostPort(parsing: "10.0.0.2:8080")),
            forwardedFor: HostPort(parsing: "10.0.0.1:34567"),
            serviceHost: "echo.demo.svc.cluster.local",
            baggage: "k8s.namespace.name=demo",
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
        )
        let headers = request.headers
        #expect(headers[":method"] == ["CONNECT"])
        #expect(headers[":authority"] == ["10.0.0.2:8080"])
        #expect(headers[":scheme"].isEmpty && headers[":path"].isEmpty)
        #expect(headers["forwarded"] == ["for=\"10.0.0.1:34567\";host=echo.demo.svc.cluster.local"])
        #expect(headers["baggage"] == ["k8s.namespace.name=demo"])
        let parsed = try HBONERequest(parsing: headers)
        #expect(parsed.authority == request.authority)
        #expect(parsed.forwardedFor == request.forwardedFor)
    }

    @Test(
        "malformed heads are 400",
        arguments: [
            [(":method", "GET"), (":authority", "10.0.0.2:80")],
            [(":authority", "10.0.0.2:80")],
            [(":method", "CONNECT")],
            [(":method", "CONNECT"), (":authority", "echo.demo:80")],
            [(":method", "CONNECT"), (":authority", "10.0.0.2")],
            [(":method", "CONNECT"), (":authority", "10.0.0.2:99999")],
            [(":method", "CONNECT"), (":authority", "10.0.0.2:80"), (":authority", "10.0.0.3:80")],
            [(":method", "CONNECT"), (":authority", "10.0.0.2:80"), (":protocol", "websocket")],
        ]
    )
    func rejects(_ pairs: [(String, String)]) {
        let headers = HPACKHeaders(pairs)
        #expect(throws: HBONERequest.Rejection.self) { try HBONERequest(parsing: headers) }
        do {
            _ = try HBONERequest(parsing: headers)
        } catch {
            #expect(error.status == 400)
        }
    }

    @Test("traceparent is W3C version 00 and 55 characters")
    func traceparent() {
        let value = HBONEHeaders.traceparent()
        #expect(value.count == 55)
        #expect(value.hasPrefix("00-"))
        #expect(value.hasSuffix("-00"))
        let fields = value.split(separator: "-")
        #expect(fields.map(\.count) == [2, 32, 16, 2])
        #expect(fields[1].allSatisfy { "0123456789abcdef".contains($0) } && fields[2].allSatisfy { "0123456789abcdef".contains($0) })
        #expect(value != HBONEHeaders.traceparent())
    }
}
