// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import Synchronization

/// Log levels that can change while the daemon runs (admin `/logging`): one for the daemon's own logs and one
/// for the access log, which can also be switched off. Log handlers read them on every call (an atomic load).
public final class RuntimeLogLevels: Sendable {
    /// The logger label of the access log.
    public static let accessLabel = "weft.access"

    private let defaultLevel: Atomic<Int>
    /// The access log's level; `Int.max` is off.
    private let accessLevel: Atomic<Int>

    public init(default level: Logger.Level, accessEnabled: Bool = true) {
        defaultLevel = Atomic(Self.rank(level))
        accessLevel = Atomic(accessEnabled ? Self.rank(.info) : Int.max)
    }

    /// The level of logs with `label`.
    public func level(for label: String) -> Logger.Level {
        let rank = load(label)
        return rank == Int.max ? .critical : Logger.Level.allCases[rank]
    }

    /// Whether a record at `level` with `label` is written.
    public func isEnabled(_ level: Logger.Level, label: String) -> Bool {
        Self.rank(level) >= load(label)
    }

    /// The current settings, as `/logging` shows them.
    public var description: String {
        let access = accessLevel.load(ordering: .relaxed)
        return "default=\(Logger.Level.allCases[defaultLevel.load(ordering: .relaxed)]) access="
            + (access == Int.max ? "off" : "\(Logger.Level.allCases[access])")
    }

    /// A change to the levels that was refused.
    public struct ChangeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Applies `spec`: a level (`debug`) for the daemon's logs, or comma-separated `scope=level` items with scope
    /// `default` or `access` (`access=off` disables the access log). Nothing changes if any item is invalid.
    public func apply(_ spec: String) throws(ChangeError) {
        var changes: [(scope: String, rank: Int)] = []
        for item in spec.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let (scope, value) = parts.count == 2 ? (parts[0], parts[1]) : ("default", parts[0])
            guard scope == "default" || scope == "access" else {
                throw ChangeError(description: "unknown log scope '\(scope)'; use 'default' or 'access'")
            }
            if value == "off" {
                guard scope == "access" else {
                    throw ChangeError(description: "only the access log can be switched off ('access=off')")
                }
                changes.append((scope, Int.max))
            } else if let level = Logger.Level(rawValue: value) {
                changes.append((scope, Self.rank(level)))
            } else {
                throw ChangeError(
                    description: "unknown log level '\(value)'; use one of "
                        + Logger.Level.allCases.map(\.rawValue).joined(separator: ", ") + (scope == "access" ? ", off" : "")
                )
            }
        }
        guard !changes.isEmpty else { throw ChangeError(description: "no level given, e.g. 'level=debug' or 'level=access=off'") }
        for change in changes {
            if change.scope == "access" {
                accessLevel.store(change.rank, ordering: .relaxed)
            } else {
                defaultLevel.store(change.rank, ordering: .relaxed)
            }
        }
    }

    private func load(_ label: String) -> Int {
        label == Self.accessLabel ? accessLevel.load(ordering: .relaxed) : defaultLevel.load(ordering: .relaxed)
    }

    static func rank(_ level: Logger.Level) -> Int {
        Logger.Level.allCases.firstIndex(of: level)!
    }
}
