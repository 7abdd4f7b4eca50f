// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import WeftIdentity
#if canImport(Glibc)
import Glibc
#endif

/// Builds the lab of a ``LabPlan`` on this host, runs traffic through it and tears it down.
///
/// Everything it makes is findable without its own records: namespaces start with `weft-lab-`, and processes
/// are the ones inside those namespaces, so `down` cleans up even after a crash.
public struct LabRunner {
    public let directory: String
    public let weft: String
    public var log: (String) -> Void = { print($0) }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(directory: String, weft: String) {
        self.directory = directory
        self.weft = weft
    }

    // MARK: - up

    /// Creates the topology, the CA and manifests, starts echo workloads and one `weft node` per lab node, waits
    /// until every pod is enrolled, then sends traffic and prints the report. Leaves the lab running.
    public func up(plan: LabPlan) throws {
        try down(quiet: true)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        log("==> creating \(plan.namespaces.count) network namespaces (switch, \(plan.nodes.count) nodes, pods)")
        for command in plan.setupCommands { try run(command) }
        let manifest = path("mesh.yaml")
        try plan.manifests.write(toFile: manifest, atomically: true, encoding: .utf8)
        let ca = try CertificateAuthority.create(trustDomain: "cluster.local")
        try ca.write(to: path("ca"), force: true)
        var pids: [Int32] = []
        for pod in plan.nodes.flatMap(\.pods) + [plan.outsider] {
            pids.append(try spawn(["ip", "netns", "exec", pod.netns, weft, "lab", "echo", "--listen", "\(pod.ip):\(LabPlan.echoPort)", "--name", pod.name], output: "/dev/null"))
        }
        log("==> starting tcpdump on the node-to-node link")
        pids.append(try spawn(["ip", "netns", "exec", LabPlan.switchNetns, "tcpdump", "-i", "br0", "-nn", "-U", "-w", path("link.pcap")], output: path("tcpdump.log")))
        for node in plan.nodes {
            log("==> starting weft node \(node.name) in \(node.netns)")
            pids.append(
                try spawn(
                    ["ip", "netns", "exec", node.netns, weft, "node", "--config", manifest, "--ca-dir", path("ca"), "--node", node.name, "--log-level", "debug"],
                    output: path("\(node.name).log")
                )
            )
        }
        if let waypoint = plan.waypoint {
            log("==> starting weft waypoint in \(waypoint.netns)")
            pids.append(
                try spawn(
                    ["ip", "netns", "exec", waypoint.netns, weft, "waypoint", "--config", manifest, "--ca-dir", path("ca"),
                     "--workload", "\(LabPlan.namespace)/\(waypoint.name)"],
                    output: path("waypoint.log")
                )
            )
        }
        try "\(pids.map(String.init).joined(separator: "\n"))\n".write(toFile: path("pids"), atomically: true, encoding: .utf8)
        for node in plan.nodes {
            try waitFor(file: path("\(node.name).log"), text: "pod enrolled", count: node.pods.count, seconds: 30)
        }
        if plan.waypoint != nil {
            try waitFor(file: path("waypoint.log"), text: "listening", count: 1, seconds: 30)
        }
        try traffic(plan: plan)
    }

    // MARK: - traffic and report

    struct Case {
        var label: String
        var from: LabPlan.Pod
        var to: String
        var port: UInt16
        var count: Int
        var expectOK: Bool
    }

    func traffic(plan: LabPlan) throws {
        let first = plan.nodes[0].pods[0]
        var cases: [Case] = []
        if let sameNode = plan.nodes[0].pods.dropFirst().first {
            cases.append(Case(label: "\(first.name) -> \(sameNode.name) (same node)", from: first, to: sameNode.ip, port: LabPlan.echoPort, count: 3, expectOK: true))
        }
        for node in plan.nodes.dropFirst() {
            cases.append(Case(label: "\(first.name) -> \(node.pods[0].name) (across nodes)", from: first, to: node.pods[0].ip, port: LabPlan.echoPort, count: 3, expectOK: true))
        }
        if let remote = plan.nodes.last?.pods.last, plan.nodes.count > 1 {
            cases.append(Case(label: "\(remote.name) -> \(first.name) (across nodes, back)", from: remote, to: first.ip, port: LabPlan.echoPort, count: 3, expectOK: true))
        }
        cases.append(Case(label: "\(first.name) -> Service echo \(LabPlan.serviceVIP):\(LabPlan.servicePort)", from: first, to: LabPlan.serviceVIP, port: LabPlan.servicePort, count: 20, expectOK: true))
        cases.append(Case(label: "outsider (not in mesh) -> \(first.name), plaintext", from: plan.outsider, to: first.ip, port: LabPlan.echoPort, count: 2, expectOK: true))

        log("\n== traffic ==")
        log(pad("connection", 58) + pad("ok", 6) + "answered by")
        var failures = 0
        for c in cases {
            var answered: [String: Int] = [:]
            var ok = 0
            for i in 0..<c.count {
                let marker = "WEFT-LAB-PLAINTEXT-\(c.from.name)-\(i)"
                let out = try capture(["ip", "netns", "exec", c.from.netns, weft, "lab", "probe", "--to", "\(c.to):\(c.port)", "--payload", marker])
                if out.hasPrefix("ok ") {
                    ok += 1
                    let words = out.split(separator: " ")
                    let who = words.dropFirst().first.map(String.init) ?? "?"
                    let seen = words.dropFirst(2).first.map(String.init) ?? "src=?"
                    // The application must see the caller's own address (source preserved through the mesh), or the
                    // waypoint's when the traffic went through it (as with Istio's waypoints).
                    let key =
                        seen == "src=\(c.from.ip)" ? who
                        : plan.waypoint.map({ seen == "src=\($0.ip)" }) == true ? "\(who) via waypoint"
                        : "\(who) (saw \(seen), not \(c.from.ip))"
                    answered[key, default: 0] += 1
                } else {
                    answered[out.trimmingCharacters(in: .whitespacesAndNewlines), default: 0] += 1
                }
            }
            if (ok == c.count) != c.expectOK { failures += 1 }
            log(pad(c.label, 58) + pad("\(ok)/\(c.count)", 6) + answered.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", "))
        }
        Thread.sleep(forTimeInterval: 1)
        report(plan: plan)
        try linkProof()
        if failures > 0 { throw Failure(description: "\(failures) traffic case(s) did not behave as expected; see the logs in \(directory)") }
    }

    func report(plan: LabPlan) {
        log("\n== what the nodes saw ==")
        for node in plan.nodes {
            let text = (try? String(contentsOfFile: path("\(node.name).log"), encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n")
            let complete = lines.filter { $0.contains("connection complete") }
            let outbound = complete.filter { $0.contains("direction=outbound") }
            let inbound = complete.filter { $0.contains("direction=inbound") && $0.contains("security=mutual_tls") }
            var tunnels: [String: Int] = [:]
            for line in outbound where line.contains("security=mutual_tls") {
                tunnels["hbone to \(value(line, "dst.identity")) via \(value(line, "dst.hbone_addr"))", default: 0] += 1
            }
            let identities = Set(inbound.compactMap { line -> String? in
                guard let r = line.range(of: "src.identity=") else { return nil }
                return String(line[r.upperBound...].prefix { $0 != " " })
            })
            let bytes = complete.reduce(0) { sum, line in
                sum + field(line, "bytes_sent") + field(line, "bytes_recv")
            }
            let pooled = lines.filter { $0.contains("hbone connection opened") }.count
            let plaintext = complete.filter { $0.contains("direction=inbound") && $0.contains("security=none") }.count
            log("\(node.name): \(outbound.count) outbound, \(inbound.count) inbound HBONE streams, \(bytes) bytes, \(pooled) pooled HBONE connections opened")
            for (tunnel, count) in tunnels.sorted(by: { $0.key < $1.key }) { log("   \(tunnel): \(count)") }
            if !identities.isEmpty { log("   mTLS peers: \(identities.sorted().joined(separator: ", "))") }
            if plaintext > 0 { log("   plaintext accepted from outside the mesh (PERMISSIVE): \(plaintext)") }
        }
    }

    /// The text value of ` name=value` in a log line, `-` if absent.
    private func value(_ line: Substring, _ name: String) -> String {
        guard let r = line.range(of: " \(name)=") else { return "-" }
        return String(line[r.upperBound...].prefix { $0 != " " })
    }

    private func field(_ line: Substring, _ name: String) -> Int {
        guard let r = line.range(of: "\(name)=") else { return 0 }
        return Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    /// Reads the capture of the node-to-node link: every TCP segment must be HBONE (port 15008), and no
    /// plaintext marker may appear.
    func linkProof() throws {
        // tcpdump writes with -U; give it a moment, then read the file while it keeps running.
        Thread.sleep(forTimeInterval: 0.5)
        let all = try capture(["tcpdump", "-r", path("link.pcap"), "-nn", "tcp"])
        let other = try capture(["tcpdump", "-r", path("link.pcap"), "-nn", "tcp and not port 15008"])
        let ascii = try capture(["tcpdump", "-r", path("link.pcap"), "-nn", "-A", "tcp"])
        let segments = all.split(separator: "\n").count
        let nonHBONE = other.split(separator: "\n").count
        let leaked = ascii.contains("WEFT-LAB-PLAINTEXT")
        log("\n== node-to-node link (tcpdump on the lab switch) ==")
        log("TCP segments: \(segments); on port 15008 (HBONE, TLS 1.3): \(segments - nonHBONE); other TCP: \(nonHBONE)")
        log("plaintext markers sent by the probes found on the link: \(leaked ? "YES — LEAK" : "none")")
        if leaked || nonHBONE > 0 || segments == 0 {
            throw Failure(description: "the node-to-node link carried something other than HBONE")
        }
    }

    // MARK: - down

    /// Stops every lab process and removes every lab namespace and the lab folder. Safe to run any time.
    public func down(quiet: Bool = false) throws {
        var pids = Set<Int32>()
        if let text = try? String(contentsOfFile: path("pids"), encoding: .utf8) {
            pids.formUnion(text.split(separator: "\n").compactMap { Int32($0) })
        }
        let namespaces = ((try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")) ?? [])
            .filter { $0.hasPrefix(LabPlan.prefix) }
        for ns in namespaces {
            let out = (try? capture(["ip", "netns", "pids", ns])) ?? ""
            pids.formUnion(out.split(separator: "\n").compactMap { Int32($0) })
        }
        for pid in pids where pid > 1 {
            // tcpdump runs with SIGTERM blocked (inherited from the spawning process); it writes every packet at
            // once (-U), so killing it loses nothing.
            let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            kill(pid, command.hasPrefix("tcpdump") ? SIGKILL : SIGTERM)
        }
        let deadline = Date().addingTimeInterval(8)
        while Date() < deadline && pids.contains(where: { kill($0, 0) == 0 && !isZombie($0) }) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        for pid in pids where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        for ns in namespaces { _ = try? run(["ip", "netns", "del", ns]) }
        try? FileManager.default.removeItem(atPath: directory)
        if !quiet {
            log("lab down: stopped \(pids.count) processes, removed \(namespaces.count) namespaces and \(directory)")
        }
    }

    private func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    // MARK: - processes

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    @discardableResult
    func run(_ command: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failure(description: "\(command.joined(separator: " ")) failed: \(text)")
        }
        return 0
    }

    func capture(_ command: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func spawn(_ command: [String], output: String) throws -> Int32 {
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        let handle = FileHandle(forWritingAtPath: output) ?? FileHandle.nullDevice
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return p.processIdentifier
    }

    func waitFor(file: String, text: String, count: Int, seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let content = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            if content.components(separatedBy: text).count - 1 >= count { return }
            if content.contains("critical") { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let content = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        throw Failure(description: "timed out waiting for '\(text)' in \(file):\n\(content.suffix(2000))")
    }
}
