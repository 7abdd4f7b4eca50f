// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftCluster
import WeftRoute
import XCTest

final class ConsistentHashKeyTests: XCTestCase {
    var generator = SeededGenerator(seed: 11)

    func evaluate(
        _ key: LoadBalancerSettings.ConsistentHash.Key,
        headers: [(name: String, value: String)] = [],
        query: String? = nil,
        sourceIP: String? = nil
    ) -> ConsistentHashKey.Outcome {
        ConsistentHashKey(key).evaluate(headers: headers, query: query, sourceIP: sourceIP, using: &generator)
    }

    func testHeaderNamesAreCaseInsensitive() {
        XCTAssertEqual(evaluate(.httpHeaderName("x-user"), headers: [("X-User", "bob")]), .hash(LoadBalancer.hash("bob")))
        XCTAssertEqual(evaluate(.httpHeaderName("X-USER"), headers: [("x-user", "bob")]).hash, LoadBalancer.hash("bob"))
        XCTAssertEqual(evaluate(.httpHeaderName("x-user"), headers: [("x-users", "bob")]), .absent)
        XCTAssertEqual(evaluate(.httpHeaderName("x-user"), headers: [("x-user", "")]).hash, LoadBalancer.hash(""))
        XCTAssertNotEqual(
            evaluate(.httpHeaderName("x-user"), headers: [("x-user", "Bob")]).hash,
            evaluate(.httpHeaderName("x-user"), headers: [("x-user", "bob")]).hash, "values compare exactly")
    }

    func testRepeatedHeaderValuesHashIndependentlyOfOrder() {
        let forward = evaluate(.httpHeaderName("x-user"), headers: [("x-user", "a"), ("accept", "*/*"), ("X-User", "b")])
        let backward = evaluate(.httpHeaderName("x-user"), headers: [("x-user", "b"), ("x-user", "a")])
        XCTAssertEqual(forward, backward)
        XCTAssertEqual(forward.hash, XXHash64.hash("ab"))
    }

    func testCookieParsing() {
        let key = LoadBalancerSettings.ConsistentHash.Key.httpCookie(name: "sid", path: nil, ttl: nil)
        XCTAssertEqual(evaluate(key, headers: [("cookie", "a=1; sid=xyz")]), .hash(LoadBalancer.hash("xyz")))
        XCTAssertEqual(evaluate(key, headers: [("Cookie", "sid=xyz;a=1")]).hash, LoadBalancer.hash("xyz"))
        XCTAssertEqual(evaluate(key, headers: [("cookie", "sid=\"xyz\"")]).hash, LoadBalancer.hash("xyz"))
        XCTAssertEqual(
            evaluate(key, headers: [("cookie", "a=1"), ("cookie", "b=2;  sid=second ; sid=third")]).hash,
            LoadBalancer.hash("second"), "the first cookie of that name, across headers")
        XCTAssertEqual(evaluate(key, headers: [("cookie", "SID=xyz; xsid=1")]), .absent, "cookie names are case-sensitive")
        XCTAssertEqual(evaluate(key, headers: [("cookie", "sid=")]), .absent, "an empty cookie is no key")
        XCTAssertEqual(evaluate(key, headers: [("x-sid", "xyz")]), .absent)
        XCTAssertEqual(evaluate(key), .absent)
    }

    func testCookieIsGeneratedWhenAbsentWithTTL() {
        let key = LoadBalancerSettings.ConsistentHash.Key.httpCookie(name: "sid", path: "/", ttl: .seconds(3600))
        guard case .generated(let hash, let cookie) = evaluate(key, headers: [("cookie", "a=1")]) else {
            return XCTFail("expected a generated cookie")
        }
        XCTAssertEqual(cookie.name, "sid")
        XCTAssertEqual(cookie.value.count, 16)
        XCTAssertTrue(cookie.value.allSatisfy { $0.isHexDigit && !$0.isUppercase }, cookie.value)
        XCTAssertEqual(hash, LoadBalancer.hash(cookie.value))
        XCTAssertEqual(cookie.setCookie, "sid=\(cookie.value); Path=/; Max-Age=3600; HttpOnly")

        // The next request carries it and hashes the same.
        XCTAssertEqual(evaluate(key, headers: [("cookie", "sid=\(cookie.value)")]), .hash(hash))
        // Another client gets another value.
        XCTAssertNotEqual(evaluate(key).generatedCookie?.value, cookie.value)
        // An existing cookie is used, not replaced.
        XCTAssertEqual(evaluate(key, headers: [("cookie", "sid=abc")]), .hash(LoadBalancer.hash("abc")))
    }

    func testSessionCookieAndMissingPath() {
        let session = evaluate(.httpCookie(name: "sid", path: "/shop", ttl: .zero)).generatedCookie
        XCTAssertEqual(session?.setCookie, "sid=\(session?.value ?? ""); Path=/shop; HttpOnly")
        let noPath = evaluate(.httpCookie(name: "sid", path: nil, ttl: .seconds(90))).generatedCookie
        XCTAssertEqual(noPath?.setCookie, "sid=\(noPath?.value ?? ""); Max-Age=90; HttpOnly")
        XCTAssertEqual(
            ConsistentHashKey.setCookie(name: "s", value: "v", path: "", ttl: .milliseconds(1_500)), "s=v; Max-Age=1; HttpOnly")
    }

    func testGeneratedValueIsZeroPadded() {
        struct Small: RandomNumberGenerator { mutating func next() -> UInt64 { 0xABC } }
        var small = Small()
        let cookie = ConsistentHashKey.generateCookie(name: "c", path: nil, ttl: .seconds(1), using: &small)
        XCTAssertEqual(cookie.value, "0000000000000abc")
    }

    func testQueryParameter() {
        let key = LoadBalancerSettings.ConsistentHash.Key.httpQueryParameterName("user")
        XCTAssertEqual(evaluate(key, query: "?a=1&user=bob"), .hash(LoadBalancer.hash("bob")))
        XCTAssertEqual(evaluate(key, query: "a=1&user=bob&user=eve").hash, LoadBalancer.hash("bob"))
        XCTAssertEqual(evaluate(key, query: "users=bob&xuser=eve"), .absent)
        XCTAssertEqual(evaluate(key, query: "a=1&user").hash, LoadBalancer.hash(""))
        XCTAssertEqual(evaluate(key, query: "user=a%20b").hash, LoadBalancer.hash("a%20b"), "not decoded")
        XCTAssertEqual(evaluate(key, query: "user=x=y").hash, LoadBalancer.hash("x=y"))
        XCTAssertEqual(evaluate(key, query: ""), .absent)
        XCTAssertEqual(evaluate(key, query: nil), .absent)
    }

    func testSourceIP() {
        XCTAssertEqual(evaluate(.useSourceIp, sourceIP: "10.0.0.7"), .hash(LoadBalancer.hash("10.0.0.7")))
        XCTAssertEqual(evaluate(.useSourceIp, sourceIP: ""), .absent)
        XCTAssertEqual(evaluate(.useSourceIp), .absent)
    }

    func testRouteRequestOverload() {
        let request = RouteRequest(
            path: "/cart?user=bob", headers: [HTTPHeaderField("Cookie", "sid=xyz"), HTTPHeaderField("X-User", "eve")])
        let key = { (key: LoadBalancerSettings.ConsistentHash.Key) in
            ConsistentHashKey(key).evaluate(request, sourceIP: "fd00::7", using: &self.generator)
        }
        XCTAssertEqual(key(.httpQueryParameterName("user")).hash, LoadBalancer.hash("bob"))
        XCTAssertEqual(key(.httpCookie(name: "sid", path: nil, ttl: nil)).hash, LoadBalancer.hash("xyz"))
        XCTAssertEqual(key(.httpHeaderName("x-user")).hash, LoadBalancer.hash("eve"))
        XCTAssertEqual(key(.useSourceIp).hash, LoadBalancer.hash("fd00::7"))
        XCTAssertEqual(key(.httpQueryParameterName("nope")), .absent)
    }
}
