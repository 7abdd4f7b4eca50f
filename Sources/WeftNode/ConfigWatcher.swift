// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import WeftConfig
import WeftIdentity
import WeftModel

/// Reloads the manifests when they change (polled every second) or on SIGHUP. A new configuration is validated
/// first; on any error the last good one stays in force and every problem is logged. A good one replaces the
/// snapshot (established connections are untouched), issues certificates for new identities and re-enrols pods.
struct ConfigWatcher: Service {
    let paths: [String]
    let context: NodeContext
    let pods: PodManager
    let interval: Duration

    func run() async throws {
        await ManifestChangeMonitor(paths: paths, interval: interval).run { reason in await reload(reason: reason) }
    }

    func reload(reason: String) async {
        let current = context.snapshot
        let result = ManifestLoader.load(paths: paths, trustDomain: current.trustDomain, rootNamespace: current.rootNamespace)
        guard let snapshot = result.snapshot, !result.hasErrors else {
            for diagnostic in result.errors { context.logger.error("\(diagnostic.description)") }
            context.telemetry.configReloaded(success: false)
            context.configStatus.rejected(result.errors.map(\.description))
            context.logger.error(
                "configuration rejected; the last good configuration stays in force",
                metadata: ["reason": "\(reason)", "errors": "\(result.errors.count)"]
            )
            return
        }
        for diagnostic in result.brokenReferences { context.logger.error("\(diagnostic.description)") }
        for diagnostic in result.warnings { context.logger.warning("\(diagnostic.description)") }
        let identities = Set(snapshot.workloads(onNode: context.node).map { snapshot.identity(of: $0) })
        do {
            try context.identities.reconcile(identities)
        } catch {
            context.logger.error("certificates for the new configuration could not be issued; keeping the old one", metadata: ["error": "\(error)"])
            context.telemetry.configReloaded(success: false)
            context.configStatus.rejected(["certificates could not be issued: \(error)"])
            return
        }
        context.replace(snapshot: snapshot)
        context.telemetry.configReloaded(success: true)
        context.configStatus.reloaded()
        await pods.reconcile(snapshot)
        let enrolled = await pods.enrolledCount
        context.logger.info(
            "configuration reloaded",
            metadata: [
                "reason": "\(reason)", "workloads": "\(snapshot.workloads.count)", "services": "\(snapshot.services.count)",
                "pods_enrolled": "\(enrolled)",
            ]
        )
    }
}
