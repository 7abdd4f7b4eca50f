// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import ServiceLifecycle
import UnixSignals

/// Watches manifest paths for changes (polled: paths, sizes and modification times) and SIGHUP, and calls back
/// once per change, one at a time, until graceful shutdown. A change is reported once the files have stopped
/// changing for ``settleDelay``, so an editor's or a script's non-atomic write is not loaded half-done. Shared by
/// the node's and the waypoint's reloads.
struct ManifestChangeMonitor: Sendable {
    let paths: [String]
    let interval: Duration

    /// Runs until graceful shutdown; `onChange` gets the reason (`file change`, `SIGHUP`).
    func run(onChange: @escaping @Sendable (String) async -> Void) async {
        let initial = Self.fingerprint(paths)
        let paths = self.paths
        let interval = self.interval
        let hup = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            let (changes, continuation) = AsyncStream.makeStream(of: String.self)
            group.addTask {
                for await _ in hup.cancelOnGracefulShutdown() { continuation.yield("SIGHUP") }
            }
            group.addTask {
                var fingerprint = initial
                while !Task.isCancelled {
                    do {
                        try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                    } catch {
                        break
                    }
                    var now = Self.fingerprint(paths)
                    guard now != fingerprint else { continue }
                    // A file being written shows up half-written: wait until the manifests stop changing for a
                    // moment (at most a few seconds), so a partial file (a policy missing its end) is never loaded.
                    for _ in 0..<Self.settleChecks {
                        do {
                            try await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.settleDelay) }
                        } catch {
                            break
                        }
                        let later = Self.fingerprint(paths)
                        if later == now { break }
                        now = later
                    }
                    fingerprint = now
                    continuation.yield("file change")
                }
                continuation.finish()
            }
            for await reason in changes.cancelOnGracefulShutdown() {
                await onChange(reason)
            }
            group.cancelAll()
        }
    }

    /// How long the manifests must stay unchanged before a change is loaded, and how many times to wait for that.
    static let settleDelay: Duration = .milliseconds(200)
    static let settleChecks = 15

    /// Paths, sizes and modification times of every manifest file (directories expanded).
    static func fingerprint(_ paths: [String]) -> [String] {
        var result: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                result.append("\(path):missing")
                continue
            }
            var files = [path]
            if isDirectory.boolValue {
                files = (fm.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []).sorted().map { "\(path)/\($0)" }
            }
            for file in files {
                let attributes = try? fm.attributesOfItem(atPath: file)
                let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                result.append("\(file):\(size):\(modified)")
            }
        }
        return result
    }
}
