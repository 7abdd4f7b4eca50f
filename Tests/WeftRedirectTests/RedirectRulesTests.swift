// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftRedirect

#if canImport(Glibc)
import Glibc
#endif

/// Root and a working `ip netns` are needed for the kernel tests; CI has both.
let canUseNetns: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    || FileManager.default.isExecutableFile(atPath: "/sbin/ip") && getuid() == 0

func sh(_ command: String) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    try? p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

@Suite("Redirect rules")
struct RedirectRulesTests {
    @Test("the rendered script replaces one table atomically and redirects as specified")
    func rendered() {
        let script = RedirectRules().installScript
        #expect(script.hasPrefix("table inet weft\ndelete table inet weft\ntable inet weft {"))
        #expect(script.contains("meta mark & 0xfff == 0x539 return"))
        #expect(script.contains("tcp dport 15008 return"))
        #expect(script.contains("meta l4proto tcp redirect to :15006"))
        #expect(script.contains("meta l4proto tcp redirect to :15001"))
        #expect(script.contains("oifname \"lo\" return"))
    }

    @Test("the kernel accepts the rules in a fresh namespace, replaces them in place, and removes them", .enabled(if: canUseNetns))
    func applyInNamespace() throws {
        let name = "weft-rt-\(getpid())"
        #expect(sh("ip netns add \(name)") == 0)
        defer { _ = sh("ip netns del \(name)") }
        let ns = try NetworkNamespace(path: NetworkNamespace.resolve(name))
        defer { ns.close() }
        let rules = RedirectRules()
        try ns.run { try Nftables.run(rules.installScript, dryRun: true) }
        #expect(try ns.run { Nftables.tableExists("weft") } == false)
        try ns.run { try Nftables.run(rules.installScript) }
        try ns.run { try Nftables.run(rules.installScript) }  // a second apply replaces, no duplicates
        let listing = try ns.run { try Nftables.run("list table inet weft") }
        #expect(listing.components(separatedBy: "redirect to :15001").count == 2)
        // The host namespace was not touched.
        #expect(Nftables.tableExists("weft") == false)
        try ns.run { try Nftables.run(rules.removeScript) }
        #expect(try ns.run { Nftables.tableExists("weft") } == false)
    }

    @Test("a bad script is refused whole with libnftables' diagnostics", .enabled(if: canUseNetns))
    func badScript() throws {
        let name = "weft-rt-bad-\(getpid())"
        #expect(sh("ip netns add \(name)") == 0)
        defer { _ = sh("ip netns del \(name)") }
        let ns = try NetworkNamespace(path: NetworkNamespace.resolve(name))
        defer { ns.close() }
        do {
            try ns.run { try Nftables.run("table inet weft { chain c { type nat hook nowhere priority 0; } }") }
            Issue.record("expected an error")
        } catch let error as Nftables.Error {
            #expect(error.diagnostics.contains("Error"))
        }
        #expect(try ns.run { Nftables.tableExists("weft") } == false)
    }

    @Test("entering a namespace that does not exist names it")
    func missing() {
        #expect(throws: NetworkNamespace.Error.self) { try NetworkNamespace(path: "/var/run/netns/weft-does-not-exist") }
    }
}
