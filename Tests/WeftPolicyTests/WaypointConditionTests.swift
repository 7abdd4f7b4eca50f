// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// `when` conditions at the waypoint: request headers (case-insensitive names, several values), the L4 keys,
/// and the keys without a value there (`request.auth.*`, `connection.sni`, `experimental.*`).
@Suite("Waypoint: when conditions")
struct WaypointConditionTests {
    static func when(_ key: String, values: [String] = [], notValues: [String] = []) -> Rule {
        rule(when: [Condition(key: key, values: values, notValues: notValues)])
    }

    static let token = request(headers: [("X-Token", "abc123"), ("x-env", "prod"), ("x-env", "canary"), ("x-empty", "")])

    static let headerCases: [RequestCase] = [
        RequestCase("header exact", when("request.headers[x-token]", values: ["abc123"]), token, matches: true),
        RequestCase("header exact miss", when("request.headers[x-token]", values: ["abc"]), token, matches: false),
        RequestCase("header values are case-sensitive", when("request.headers[x-token]", values: ["ABC123"]), token, matches: false),
        RequestCase("header names are case-insensitive (key)", when("request.headers[X-TOKEN]", values: ["abc123"]), token, matches: true),
        RequestCase("header prefix", when("request.headers[x-token]", values: ["abc*"]), token, matches: true),
        RequestCase("header suffix", when("request.headers[x-token]", values: ["*123"]), token, matches: true),
        RequestCase("header presence", when("request.headers[x-token]", values: ["*"]), token, matches: true),
        RequestCase("header presence, empty value", when("request.headers[x-empty]", values: ["*"]), token, matches: true),
        RequestCase("header presence, missing", when("request.headers[x-missing]", values: ["*"]), token, matches: false),
        RequestCase("missing header never matches values", when("request.headers[x-missing]", values: ["abc123"]), token, matches: false),
        RequestCase("missing header matches notValues", when("request.headers[x-missing]", notValues: ["abc123"]), token, matches: true),
        RequestCase("header notValues excludes", when("request.headers[x-token]", notValues: ["abc*"]), token, matches: false),
        RequestCase("header notValues other", when("request.headers[x-token]", notValues: ["xyz"]), token, matches: true),
        RequestCase(
            "header values and notValues", when("request.headers[x-token]", values: ["*"], notValues: ["abc123"]), token,
            matches: false),
        RequestCase("repeated header joined with a comma", when("request.headers[x-env]", values: ["prod,canary"]), token, matches: true),
        RequestCase("repeated header: one value alone does not match", when("request.headers[x-env]", values: ["prod"]), token, matches: false),
        RequestCase("repeated header: prefix of the joined value", when("request.headers[x-env]", values: ["prod*"]), token, matches: true),
        RequestCase("inline header: any element", when("request.experimental.inline.headers[x-env]", values: ["canary"]), token, matches: true),
        RequestCase("inline header: element prefix", when("request.experimental.inline.headers[x-env]", values: ["can*"]), token, matches: true),
        RequestCase("inline header: no element", when("request.experimental.inline.headers[x-env]", values: ["dev"]), token, matches: false),
        RequestCase("inline header: notValues excludes", when("request.experimental.inline.headers[x-env]", notValues: ["prod"]), token, matches: false),
        RequestCase(
            "headers ANDed across conditions",
            rule(when: [Condition(key: "request.headers[x-token]", values: ["abc123"]), Condition(key: "request.headers[x-env]", values: ["dev"])]),
            token, matches: false),
    ]

    static let connectionCases: [RequestCase] = [
        RequestCase("source.ip", when("source.ip", values: ["10.0.0.0/24"]), matches: true),
        RequestCase("source.ip notValues", when("source.ip", notValues: ["10.0.0.5"]), matches: false),
        RequestCase("remote.ip is the peer", when("remote.ip", values: ["10.0.0.5"]), matches: true),
        RequestCase(
            "remote.ip ignores X-Forwarded-For", when("remote.ip", values: ["203.0.113.9"]),
            request(headers: [("x-forwarded-for", "203.0.113.9")]), matches: false),
        RequestCase("source.namespace", when("source.namespace", values: ["foo"]), matches: true),
        RequestCase("source.namespace, plaintext", when("source.namespace", values: ["*"]), request(plaintext: true), matches: false),
        RequestCase("source.principal", when("source.principal", values: ["cluster.local/ns/foo/sa/client"]), matches: true),
        RequestCase("source.principal notValues", when("source.principal", notValues: ["*/sa/client"]), matches: false),
        RequestCase("source.serviceAccount", when("source.serviceAccount", values: ["foo/client"]), matches: true),
        RequestCase("source.serviceAccount miss", when("source.serviceAccount", values: ["foo/admin"]), matches: false),
        RequestCase("source.trustDomain", when("source.trustDomain", values: ["cluster.local"]), matches: true),
        RequestCase("destination.ip", when("destination.ip", values: ["10.1.0.0/16"]), matches: true),
        RequestCase("destination.ip notValues", when("destination.ip", notValues: ["10.1.0.9"]), matches: false),
        RequestCase("destination.port", when("destination.port", values: ["8080"]), matches: true),
        RequestCase("destination.port miss", when("destination.port", values: ["80"]), matches: false),
        RequestCase("unreadable port fails closed", when("destination.port", values: ["http"]), matches: false),
    ]

    /// No JWT and no downstream SNI: these keys have no value, so `values` never match and `notValues` always do.
    static let absentCases: [RequestCase] = [
        RequestCase("request.auth.principal values", when("request.auth.principal", values: ["*"]), matches: false),
        RequestCase("request.auth.principal notValues", when("request.auth.principal", notValues: ["iss/sub"]), matches: true),
        RequestCase("request.auth.audiences values", when("request.auth.audiences", values: ["aud"]), matches: false),
        RequestCase("request.auth.presenter values", when("request.auth.presenter", values: ["*"]), matches: false),
        RequestCase("request.auth.claims values", when("request.auth.claims[groups]", values: ["admin"]), matches: false),
        RequestCase(
            "request.auth.claims ignore an Authorization header", when("request.auth.claims[iss]", values: ["*"]),
            request(headers: [("authorization", "Bearer x.y.z")]), matches: false),
        RequestCase("request.auth.claims notValues", when("request.auth.claims[groups]", notValues: ["admin"]), matches: true),
        RequestCase("connection.sni values", when("connection.sni", values: ["*"]), matches: false),
        RequestCase("experimental key values", when("experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["*"]), matches: false),
        RequestCase("unknown key matches nothing", when("request.heads[x]", values: ["*"]), matches: false),
        RequestCase("unknown key matches nothing, notValues too", when("destination.namespace", notValues: ["x"]), matches: false),
    ]

    @Test("request headers", arguments: headerCases)
    func headers(_ row: RequestCase) { WaypointSourceTests.check(row) }

    @Test("connection keys", arguments: connectionCases)
    func connectionKeys(_ row: RequestCase) { WaypointSourceTests.check(row) }

    @Test("keys without a value at a waypoint", arguments: absentCases)
    func absentKeys(_ row: RequestCase) { WaypointSourceTests.check(row) }

    @Test func requestFactsDeriveMatchedStringsOnce() {
        let facts = request(
            "PATCH", path: "/a/b?x=1", host: "API.Example.COM:8443",
            headers: [("Accept", "a"), ("ACCEPT", "b"), ("x-one", "1"), (":authority", "ignored")])
        #expect(facts.authority == "api.example.com:8443")
        #expect(facts.host == "api.example.com")
        #expect(facts.path == "/a/b")
        #expect(facts.method == "PATCH")
        #expect(facts.headers == ["accept": "a,b", "x-one": "1", ":authority": "ignored"])
        #expect(request(host: "[fd00::1]:80").host == "[fd00::1]")
        #expect(request(host: "[fd00::1]").host == "[fd00::1]")
        #expect(request(host: "example.com:").host == "example.com")
        #expect(request(host: "example.com:http").host == "example.com:http")
        #expect(request(host: "fd00::1").host == "fd00::1", "a bare IPv6 address has no port to strip")
        #expect(request(host: "Ünïcode.Example").authority == "Ünïcode.example", "only ASCII is lowercased")
        #expect(request().sourcePrincipal == "cluster.local/ns/foo/sa/client")
        #expect(request(from: "::ffff:10.0.0.5").sourceIP == ip("10.0.0.5"))
        #expect(
            request().description
                == "GET web.shop.svc.cluster.local/api/items from 10.0.0.5 (spiffe://cluster.local/ns/foo/sa/client) "
                + "-> 10.1.0.9:8080 Service/shop/web")
    }
}
