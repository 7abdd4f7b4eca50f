// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import ServiceLifecycle
import WeftConfig
import WeftModel
import WeftWaypoint

/// Reloads the waypoint's configuration when the manifests change or on SIGHUP. A configuration with any error
/// is refused whole and the last good one stays in force; a good one replaces the routing state at once (requests
/// in flight finish with the state they started with).
struct WaypointConfigWatcher: Service {
    let paths: [String]
    let workload: String
    let trustDomain: String
    let rootNamespace: String
    let interval: Duration
    let logger: Logger
    let install: @Sendable (WaypointState) -> Void

    func run() async throws {
        await ManifestChangeMonitor(paths: paths, interval: interval).run { reason in reload(reason: reason) }
    }

    func reload(reason: String) {
        let result = ManifestLoader.load(paths: paths, trustDomain: trustDomain, rootNamespace: rootNamespace)
        for diagnostic in result.errors { logger.error("\(diagnostic.description)") }
        do {
            let state = try WaypointConfiguration.state(from: result, workload: workload)
            for diagnostic in result.brokenReferences { logger.error("\(diagnostic.description)") }
            for diagnostic in result.warnings { logger.warning("\(diagnostic.description)") }
            install(state)
            logger.info(
                "configuration reloaded",
                metadata: [
                    "reason": "\(reason)", "services": "\(state.snapshot.services.count)",
                    "virtual_services": "\(result.traffic?.virtualServices.count ?? 0)",
                    "destination_rules": "\(result.traffic?.destinationRules.count ?? 0)",
                ]
            )
        } catch {
            logger.error(
                "configuration rejected; the last good configuration stays in force",
                metadata: ["reason": "\(reason)", "error": "\(error)"]
            )
        }
    }
}
