// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// The waypoint's path normalisation in each Istio mode, with Istio's own integration-test table
/// (`tests/integration/security/normalization_test.go`), bypass attempts and rejected targets.
@Suite("Path normalisation")
struct PathNormalizerTests {
    /// (target, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES); `nil` is rejected (400).
    static let rows: [(String, String?, String?, String?)] = [
        // Istio's table, per mode.
        ("/", "/", "/", "/"),
        ("/app/", "/app/", "/app/", "/app/"),
        ("/app", "/app", "/app", "/app"),
        ("/app/../admin", "/admin", "/admin", "/admin"),
        ("/app//", "/app//", "/app/", "/app/"),
        ("/app/%2f", "/app/%2f", "/app/%2f", "/app/"),
        ("/app%2f/", "/app%2f/", "/app%2f/", "/app/"),
        ("/xyz%30..//abc", "/xyz0..//abc", "/xyz0../abc", "/xyz0../abc"),
        ("/app/%2E./admin", "/admin", "/admin", "/admin"),
        (#"/app\admin"#, "/app/admin", "/app/admin", "/app/admin"),
        (#"/app/\/\/\admin"#, "/app//////admin", "/app/admin", "/app/admin"),
        ("/%2Fapp%5cadmin%5Cabc", "/%2Fapp%5cadmin%5Cabc", "/%2Fapp%5cadmin%5Cabc", "/app/admin/abc"),
        (
            #"/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\abc"#, "/%5Capp%2f%5c%2F..%2fadmin%5c/abc",
            "/%5Capp%2f%5c%2F..%2fadmin%5c/abc", "/app/admin/abc"
        ),
        ("/app//../admin", "/app/admin", "/app/admin", "/app/admin"),
        ("/app//../../admin", "/admin", "/admin", "/admin"),
        ("/%c0%2e%c0%2e/admin", "/%c0.%c0./admin", "/%c0.%c0./admin", "/%c0.%c0./admin"),
        ("/%c0%2fadmin", "/%c0%2fadmin", "/%c0%2fadmin", "/%c0/admin"),
        ("/0x2e0x2e/admin", "/0x2e0x2e/admin", "/0x2e0x2e/admin", "/0x2e0x2e/admin"),
        ("/%25c0%25ae%25c1%259cadmin", "/%25c0%25ae%25c1%259cadmin", "/%25c0%25ae%25c1%259cadmin", "/%25c0%25ae%25c1%259cadmin"),
        ("/%252e%252e/admin", "/%252e%252e/admin", "/%252e%252e/admin", "/%252e%252e/admin"),
        ("/%252e%252e%252fadmin", "/%252e%252e%252fadmin", "/%252e%252e%252fadmin", "/%252e%252e%252fadmin"),
        ("/%c0%ae%c0%ae/admin", "/%c0%ae%c0%ae/admin", "/%c0%ae%c0%ae/admin", "/%c0%ae%c0%ae/admin"),
        ("/.../admin", "/.../admin", "/.../admin", "/.../admin"),
        ("/..../admin", "/..../admin", "/..../admin", "/..../admin"),
        ("/..;/admin", "/..;/admin", "/..;/admin", "/..;/admin"),
        ("/;/admin", "/;/admin", "/;/admin", "/;/admin"),
        ("/admin;a=b/xyz", "/admin;a=b/xyz", "/admin;a=b/xyz", "/admin;a=b/xyz"),
        ("/admin,a=b/xyz", "/admin,a=b/xyz", "/admin,a=b/xyz", "/admin,a=b/xyz"),
        ("/Admin", "/Admin", "/Admin", "/Admin"),
        ("/admin%00", nil, nil, nil),
        // Attempts to reach /b past a policy on /b.
        ("/a/../b", "/b", "/b", "/b"),
        ("/a/%2E%2E/b", "/b", "/b", "/b"),
        ("/a/%2e%2e/b", "/b", "/b", "/b"),
        ("/a/.%2e/b", "/b", "/b", "/b"),
        ("/%2E%2E/b", "/b", "/b", "/b"),
        ("/./b", "/b", "/b", "/b"),
        ("/%2e/b", "/b", "/b", "/b"),
        ("/../b", "/b", "/b", "/b"),
        ("/../../../b", "/b", "/b", "/b"),
        ("/a/b/../../b", "/b", "/b", "/b"),
        (#"/a\..\b"#, "/b", "/b", "/b"),
        ("/a/..%5Cb", "/a/..%5Cb", "/a/..%5Cb", "/b"),
        ("/a%2F..%2Fb", "/a%2F..%2Fb", "/a%2F..%2Fb", "/b"),
        ("//b", "//b", "/b", "/b"),
        ("///b//", "///b//", "/b/", "/b/"),
        ("/a//../b", "/a/b", "/a/b", "/a/b"),
        ("/%62", "/b", "/b", "/b"),
        ("/%2F%62", "/%2Fb", "/%2Fb", "/b"),
        ("/%41%42%43-%5f%7e%7E", "/ABC-_~~", "/ABC-_~~", "/ABC-_~~"),
        // Dot segments at the end leave a directory.
        ("/b/.", "/b/", "/b/", "/b/"),
        ("/b/..", "/", "/", "/"),
        ("/a/b/..", "/a/", "/a/", "/a/"),
        ("/a/b/%2E", "/a/b/", "/a/b/", "/a/b/"),
        // Escapes that are not unreserved characters are kept as sent; stray `%` too.
        ("/%zz", "/%zz", "/%zz", "/%zz"),
        ("/%2", "/%2", "/%2", "/%2"),
        ("/%", "/%", "/%", "/%"),
        ("/a%20b", "/a%20b", "/a%20b", "/a%20b"),
        ("/%3f", "/%3f", "/%3f", "/%3f"),
        // Characters Envoy escapes.
        ("/caf\u{E9}", "/caf%C3%A9", "/caf%C3%A9", "/caf%C3%A9"),
        ("/<x>\"`", "/%3Cx%3E%22%60", "/%3Cx%3E%22%60", "/%3Cx%3E%22%60"),
        ("/{a}|^[]", "/{a}|^[]", "/{a}|^[]", "/{a}|^[]"),
        // Rejected: NUL and control bytes, spaces, fragments, and targets not in origin form.
        ("/b%00", nil, nil, nil),
        ("/b\u{0}", nil, nil, nil),
        ("/b\t", nil, nil, nil),
        ("/b\r\nx-injected: 1", nil, nil, nil),
        ("/b\u{7F}", nil, nil, nil),
        ("/a b", nil, nil, nil),
        ("/b#fragment", nil, nil, nil),
        ("/b?q#fragment", nil, nil, nil),
        ("b", nil, nil, nil),
        ("", nil, nil, nil),
        ("*", nil, nil, nil),
        ("http://example.com/b", nil, nil, nil),
        (#"\b"#, nil, nil, nil),
    ]

    @Test("normalisation table", arguments: rows)
    func table(_ row: (String, String?, String?, String?)) {
        let (target, base, merge, decode) = row
        #expect(PathNormalizer().normalizedPath(target) == base, "BASE \(target.debugDescription)")
        #expect(PathNormalizer(mode: .mergeSlashes).normalizedPath(target) == merge, "MERGE_SLASHES \(target.debugDescription)")
        #expect(
            PathNormalizer(mode: .decodeAndMergeSlashes).normalizedPath(target) == decode,
            "DECODE_AND_MERGE_SLASHES \(target.debugDescription)")
    }

    @Test func normalisationIsIdempotent() {
        for mode in PathNormalizer.Mode.allCases {
            let normalizer = PathNormalizer(mode: mode)
            for (target, _, _, _) in Self.rows {
                guard let once = normalizer.normalizedPath(target) else { continue }
                #expect(normalizer.normalizedPath(once) == once, "\(mode) \(target.debugDescription)")
            }
        }
    }

    @Test func queryIsSplitOffAndKept() throws {
        let normalized = try #require(PathNormalizer().normalize("/a/../b?x=/../y&z=%2e%00"))
        #expect(normalized.path == "/b")
        #expect(normalized.query == "x=/../y&z=%2e%00")
        #expect(normalized.requestTarget == "/b?x=/../y&z=%2e%00")
        #expect(PathNormalizer().normalize("/b?")?.query == "")
        #expect(PathNormalizer().normalize("/b?")?.requestTarget == "/b?")
        #expect(PathNormalizer().normalize("/b")?.query == nil)
        #expect(PathNormalizer().normalize("/b?x=\u{1}") == nil)
        #expect(PathNormalizer().normalize("/%2e%2e?/..")?.path == "/")
        #expect(PathNormalizer.Mode.allCases.map(\.rawValue) == ["BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"])
    }

    /// End to end: what a DENY and an ALLOW policy on `/b` make of bypass attempts, per mode. Only an exact
    /// DENY under BASE misses `//b` (Istio's documented behaviour, fixed by MERGE_SLASHES).
    @Test(
        "policies on /b see normalised paths",
        arguments: [
            ("/a/../b", true, true), ("/a/%2E%2E/b", true, true), ("/%62", true, true), (#"/x\..\b"#, true, true),
            ("/../b", true, true), ("/./b/.", false, false), ("//b", false, true), ("/b/", false, false),
        ])
    func policiesOnB(_ target: String, _ baseHits: Bool, _ mergeHits: Bool) throws {
        let deny = waypointSet([waypointPolicy("deny-b", .deny, rules: [rule(to: [Operation(paths: ["/b"])])])])
        let allow = waypointSet([waypointPolicy("allow-b", .allow, rules: [rule(to: [Operation(paths: ["/b"])])])])
        for (mode, hits) in [(PathNormalizer.Mode.base, baseHits), (.mergeSlashes, mergeHits), (.decodeAndMergeSlashes, mergeHits)] {
            let path = try #require(PathNormalizer(mode: mode).normalizedPath(target))
            #expect(deny.evaluate(request(path: path)).isAllowed == !hits, "DENY \(mode) \(target)")
            #expect(allow.evaluate(request(path: path)).isAllowed == hits, "ALLOW \(mode) \(target)")
        }
    }
}
