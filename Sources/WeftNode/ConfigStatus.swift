// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import NIOConcurrencyHelpers

/// Where the configuration came from and how its last reloads went, for `/config_dump`.
public final class ConfigStatus: Sendable {
    public struct Snapshot: Sendable, Encodable {
        public var sources: [String]
        public var loadedAt: Date
        public var reloads: Int
        public var reloadErrors: Int
        public var lastReloadAt: Date?
        public var lastReloadResult: String?
        /// The problems of the last rejected configuration (kept until a good one replaces it).
        public var lastErrors: [String]
    }

    private let state: NIOLockedValueBox<Snapshot>

    public init(sources: [String]) {
        state = NIOLockedValueBox(
            Snapshot(sources: sources, loadedAt: Date(), reloads: 0, reloadErrors: 0, lastErrors: [])
        )
    }

    public var snapshot: Snapshot { state.withLockedValue { $0 } }

    func reloaded() {
        state.withLockedValue {
            $0.reloads += 1
            $0.loadedAt = Date()
            $0.lastReloadAt = $0.loadedAt
            $0.lastReloadResult = "applied"
            $0.lastErrors = []
        }
    }

    func rejected(_ errors: [String]) {
        state.withLockedValue {
            $0.reloadErrors += 1
            $0.lastReloadAt = Date()
            $0.lastReloadResult = "rejected; the last good configuration stays in force"
            $0.lastErrors = Array(errors.prefix(50))
        }
    }
}
