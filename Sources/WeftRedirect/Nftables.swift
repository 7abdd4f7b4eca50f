// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import CWeftLinux

/// Applies nftables scripts in process through libnftables (which drives libnftnl/libmnl over netlink), in the
/// network namespace of the calling thread. Never spawns `nft`.
public enum Nftables {
    /// An nftables script was refused; `diagnostics` is libnftables' own text (with line and caret).
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var diagnostics: String
        public var description: String { "nftables rejected the rule set: \(diagnostics)" }
    }

    /// Runs `script` as one transaction. With `dryRun` the kernel validates it without committing.
    /// - Returns: what libnftables printed (for `list` commands).
    @discardableResult
    public static func run(_ script: String, dryRun: Bool = false) throws(Error) -> String {
        var err = [CChar](repeating: 0, count: 16 * 1024)
        var out = [CChar](repeating: 0, count: 256 * 1024)
        let rc = weft_nft_run(script, dryRun ? 1 : 0, &err, err.count, &out, out.count)
        let output = String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard rc == 0 else {
            let text = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Error(diagnostics: text.isEmpty ? "error \(rc)" : text.trimmingCharacters())
        }
        return output
    }

    /// Whether `inet <table>` exists in the current namespace.
    public static func tableExists(_ table: String) -> Bool {
        (try? run("list table inet \(table)")) != nil
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

/// Policy routing in the calling thread's namespace, through rtnetlink (libmnl).
public enum PolicyRouting {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `ip rule fwmark <mark>/<mask> lookup <table>` and `ip route local 0.0.0.0/0 dev lo table <table>`.
    public static func installLocalRoute(for rules: RedirectRules) throws(Error) {
        var err = [CChar](repeating: 0, count: 512)
        let rc = weft_install_local_route(
            rules.connectionMark, rules.markMask, rules.localRouteTable, rules.localRoutePriority, &err, err.count
        )
        guard rc == 0 else {
            throw Error(description: String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }
}
