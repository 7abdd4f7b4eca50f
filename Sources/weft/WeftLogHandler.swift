// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Foundation
import Logging
import WeftTelemetry
#if canImport(Glibc)
import Glibc
#endif

enum LogFormat: String, ExpressibleByArgument, Sendable {
    case text, json
}

/// Structured logs on standard error: `2026-01-01T00:00:00.000Z info message key=value …` or one JSON object per
/// line (`ts`, `level`, `msg`, then the metadata), as ztunnel's `LOG_FORMAT=json`. The level comes from
/// ``RuntimeLogLevels`` when given, so the admin endpoint can change it while the daemon runs.
struct WeftLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    private var fixedLevel: Logger.Level
    private let levels: RuntimeLogLevels?
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogFormat, level: Logger.Level, levels: RuntimeLogLevels? = nil) {
        self.label = label
        self.format = format
        self.fixedLevel = level
        self.levels = levels
    }

    var logLevel: Logger.Level {
        get { levels?.level(for: label) ?? fixedLevel }
        set { fixedLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Self.timestamp()
        let line: String
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoteIfNeeded("\($0.value)"))" }
            line = ([timestamp, "\(event.level)", "\(event.message)"] + fields).joined(separator: " ")
        case .json:
            var object: [String: String] = ["ts": timestamp, "level": "\(event.level)", "msg": "\(event.message)", "target": label]
            for (key, value) in merged { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static func quoteIfNeeded(_ value: String) -> String {
        value.contains(" ") || value.isEmpty ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"" : value
    }

    /// `2026-01-01T00:00:00.000Z` (UTC), without a formatter object per line.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
