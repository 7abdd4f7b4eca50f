// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Foundation
import Logging
import WeftConfig
import WeftIdentity
import WeftNode

struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the node tunnel for the workloads of one node."
    )

    @Option(name: .long, help: "Manifest file or directory (repeatable).")
    var config: [String]

    @Option(help: "Directory of the built-in CA (see 'weft ca init').")
    var caDir: String

    @Option(help: "This node's name: workloads whose spec.nodeName equals it are served here.")
    var node: String

    @Option(help: "Workload certificate lifetime; renewed at half-life.")
    var certTtl: DurationArgument = DurationArgument(argument: "24h")!

    @Option(help: "How long connections may take to finish after SIGTERM.")
    var drainTimeout: DurationArgument = DurationArgument(argument: "5s")!

    @Option(help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Event-loop threads (default: number of cores).")
    var threads: Int?

    func run() async throws {
        let format = logFormat
        let level = logLevel
        LoggingSystem.bootstrap { label in WeftLogHandler(label: label, format: format, level: level) }
        let logger = Logger(label: "weft.node")
        let ca: CertificateAuthority
        do {
            ca = try CertificateAuthority.load(from: caDir)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let result = ManifestLoader.load(paths: config, trustDomain: ca.trustDomain)
        for diagnostic in result.diagnostics {
            if diagnostic.isError {
                logger.error("\(diagnostic.description)")
            } else {
                logger.warning("\(diagnostic.description)")
            }
        }
        guard let snapshot = result.snapshot, !result.hasErrors else {
            logger.critical("cannot start: the configuration has \(result.errors.count) error(s); fix them ('weft check' shows them all)")
            throw ExitCode(1)
        }
        var configuration = NodeDaemon.Configuration(node: node)
        configuration.certificateLifetime = certTtl.seconds
        configuration.drainTimeout = .milliseconds(Int(drainTimeout.seconds * 1000))
        if let threads { configuration.eventLoopThreads = threads }
        configuration.configPaths = config
        let daemon = NodeDaemon(configuration: configuration, snapshot: snapshot, ca: ca, logger: logger)
        do {
            try await daemon.run()
        } catch {
            logger.critical("node failed: \(error)")
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
