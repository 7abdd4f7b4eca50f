// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import ServiceLifecycle
import UnixSignals

/// Watches manifest paths for changes (polled: paths, sizes and modification times) and SIGHUP, and calls back
/// once per change, one at a time, until graceful shutdown. Shared by the node's and the waypoint's reloads.
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
                    let now = Self.fingerprint(paths)
                    if now != fingerprint {
                        fingerprint = now
                        continuation.yield("file change")
                    }
                }
                continuation.finish()
            }
            for await reason in changes.cancelOnGracefulShutdown() {
                await onChange(reason)
            }
            group.cancelAll()
        }
    }

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
