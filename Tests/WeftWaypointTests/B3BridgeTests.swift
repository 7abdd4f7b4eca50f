// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOHTTP1
import Testing

@testable import WeftWaypoint

@Suite("B3 on a W3C tracer")
struct B3BridgeTests {
    @Test("multi-header B3 becomes a traceparent, and goes upstream naming the waypoint's span")
    func multi() throws {
        let caller = HTTPHeaders([
            ("x-b3-traceid", "463ac35c9f6413ad"), ("x-b3-spanid", "a2fb4a1d1a96d312"), ("x-b3-sampled", "1"),
        ])
        let inbound = B3Bridge.inbound(caller)
        #expect(inbound.style == .multi)
        #expect(inbound.headers.first(name: "traceparent") == "00-0000000000000000463ac35c9f6413ad-a2fb4a1d1a96d312-01")
        var upstream = caller
        upstream.replaceOrAdd(name: "traceparent", value: "00-0000000000000000463ac35c9f6413ad-00f067aa0ba902b7-01")
        B3Bridge.outbound(&upstream, style: .multi, caller: caller)
        #expect(upstream.first(name: "x-b3-traceid") == "463ac35c9f6413ad")  // the caller's 64-bit width
        #expect(upstream.first(name: "x-b3-spanid") == "00f067aa0ba902b7")
        #expect(upstream.first(name: "x-b3-parentspanid") == "a2fb4a1d1a96d312")
        #expect(upstream.first(name: "x-b3-sampled") == "1")
    }

    @Test("single-header b3, a W3C caller, no tracer, and malformed values")
    func singleAndEdges() {
        let single = HTTPHeaders([("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0")])
        let inbound = B3Bridge.inbound(single)
        #expect(inbound.style == .single)
        #expect(inbound.headers.first(name: "traceparent") == "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-00")
        var upstream = single
        upstream.add(name: "traceparent", value: "00-80f198ee56343ba864fe8b2a57d3eff7-1111111111111111-00")
        B3Bridge.outbound(&upstream, style: .single, caller: single)
        #expect(upstream.first(name: "b3") == "80f198ee56343ba864fe8b2a57d3eff7-1111111111111111-0-e457b5a2e4d86bd1")
        // A caller with its own traceparent keeps it.
        let both = HTTPHeaders([("traceparent", "00-11111111111111111111111111111111-2222222222222222-01"), ("b3", "0")])
        #expect(B3Bridge.inbound(both).headers == both)
        // No tracer: the injected traceparent is absent, nothing changes.
        var untouched = single
        B3Bridge.outbound(&untouched, style: .single, caller: single)
        #expect(untouched == single)
        // Malformed ids are not bridged.
        let bad = HTTPHeaders([("x-b3-traceid", "xyz"), ("x-b3-spanid", "a2fb4a1d1a96d312")])
        #expect(B3Bridge.inbound(bad).headers.first(name: "traceparent") == nil)
        #expect(B3Bridge.inbound(HTTPHeaders()).style == .none)
    }
}
