// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Logging
import WeftConfig
import WeftIdentity
import WeftModel
import WeftTelemetry

/// What `weft node` and `weft waypoint` do before they run: set up logging, load the CA and the manifests, and
/// refuse to start (exit 1) with every problem named when either is bad.
enum DaemonStartup {
    /// Bootstraps swift-log: the daemon's logs in `format`, the access log (`weft.access`) in `accessFormat`, both at
    /// the levels `levels` holds (changeable at run time).
    static func bootstrapLogging(format: LogFormat, accessFormat: LogFormat, level: Logger.Level, levels: RuntimeLogLevels) {
        LoggingSystem.bootstrap { label in
            let handlerFormat = label == RuntimeLogLevels.accessLabel ? accessFormat : format
            return WeftLogHandler(label: label, format: handlerFormat, level: level, levels: levels)
        }
    }

    /// The CA in `caDir` and the configuration in `paths`, with every diagnostic logged.
    static func load(caDir: String, paths: [String], logger: Logger) throws -> (CertificateAuthority, ManifestLoadResult, MeshSnapshot) {
        let ca: CertificateAuthority
        do {
            ca = try CertificateAuthority.load(from: caDir)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let result = ManifestLoader.load(paths: paths, trustDomain: ca.trustDomain)
        for diagnostic in result.diagnostics {
            if diagnostic.failsCheck {
                logger.error("\(diagnostic.description)")
            } else {
                logger.warning("\(diagnostic.description)")
            }
        }
        guard let snapshot = result.snapshot, !result.hasErrors else {
            logger.critical("cannot start: the configuration has \(result.errors.count) error(s); fix them ('weft check' shows them all)")
            throw ExitCode(1)
        }
        return (ca, result, snapshot)
    }
}
