// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel

@Suite("SPIFFE IDs")
struct SPIFFEIDTests {
    @Test("round trip of Istio's form")
    func roundTrip() throws {
        let id = try SPIFFEID(parsing: "spiffe://cluster.local/ns/demo/sa/client")
        #expect(id == SPIFFEID(trustDomain: "cluster.local", namespace: "demo", serviceAccount: "client"))
        #expect(id.uri == "spiffe://cluster.local/ns/demo/sa/client")
        #expect(id.principal == "cluster.local/ns/demo/sa/client")
    }

    @Test(
        "malformed IDs are rejected",
        arguments: [
            "cluster.local/ns/a/sa/b", "spiffe://cluster.local/ns/a", "spiffe://cluster.local/sa/a/ns/b",
            "spiffe:///ns/a/sa/b", "spiffe://td/ns//sa/b", "spiffe://td/ns/a/sa/b/extra", "spiffe://td/ns/a b/sa/c",
            "https://td/ns/a/sa/b",
        ]
    )
    func rejects(_ input: String) {
        #expect(throws: SPIFFEID.ParseError.self) { try SPIFFEID(parsing: input) }
    }
}

@Suite("Addresses")
struct AddressTests {
    @Test(
        "ip:port parsing",
        arguments: [
            ("127.0.0.1:80", "127.0.0.1:80"), ("[::1]:15008", "[::1]:15008"), ("10.0.0.1:65535", "10.0.0.1:65535"),
            ("[2001:db8::1]:443", "[2001:db8::1]:443"),
        ]
    )
    func parses(_ input: String, _ expected: String) throws {
        let hostPort = try #require(HostPort(parsing: input))
        #expect(hostPort.description == expected)
    }

    @Test(
        "malformed authorities are rejected",
        arguments: [
            "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "::1:80", "[::1]80", "host.example:80",
            "127.0.0.1:80x", "1.2.3:80", ":80", "[::1]:-1", "127.0.0.1:+80", "",
        ]
    )
    func rejects(_ input: String) {
        #expect(HostPort(parsing: input) == nil)
    }

    @Test("IPv4 and IPv6 canonical forms")
    func canonical() throws {
        #expect(try #require(IPAddress("10.0.0.1")).description == "10.0.0.1")
        #expect(try #require(IPAddress("2001:0db8:0000::0001")).description == "2001:db8::1")
        #expect(IPAddress("10.0.0.256") == nil)
        #expect(try #require(IPAddress("127.0.0.1")).bytes == [127, 0, 0, 1])
    }

    @Test("label selectors need every pair")
    func selector() {
        let selector = LabelSelector(["app": "echo", "version": "v1"])
        #expect(selector.matches(["app": "echo", "version": "v1", "extra": "x"]))
        #expect(!selector.matches(["app": "echo"]))
    }
}
