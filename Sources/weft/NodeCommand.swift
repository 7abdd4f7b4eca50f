// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Foundation
import Logging
import WeftConfig
import WeftIdentity
import WeftHBONE
import WeftModel
import WeftNode
import WeftTelemetry
import WeftTLS

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

    @Option(
        help: ArgumentHelp(
            "A local plaintext port carried through the mesh (repeatable).",
            discussion: """
                [<namespace>/<workload>@]<listen ip>:<port>=<destination>:<port>. The destination is a workload IP, a \
                Service VIP or a Service hostname; connections carry the identity of the named local workload (default: \
                the node's only local workload). For hosts where traffic cannot be captured.
                """,
            valueName: "spec"
        )
    )
    var upstream: [String] = []

    @Option(help: "Admin endpoint (/config_dump, /logging): a loopback ip:port, or 'off'.")
    var adminAddress: String = "127.0.0.1:15000"

    @Option(help: "Prometheus metrics endpoint (/metrics): ip:port, or 'off'.")
    var metricsAddress: String = "0.0.0.0:15020"

    @Option(help: "Readiness endpoint (/healthz/ready): ip:port, or 'off'.")
    var readinessAddress: String = "0.0.0.0:15021"

    @Option(
        help: ArgumentHelp(
            "Changes to the TCP metrics' labels: '+name' adds, '-name' drops, comma-separated.",
            discussion: """
                Istio's standard labels are on by default. Can be added: destination_port, destination_ip, source_ip, \
                direction (each multiplies the number of series). Any standard label can be dropped, e.g. \
                '+destination_port,-source_cluster,-destination_cluster'.
                """,
            valueName: "changes"
        )
    )
    var metricLabels: String = ""

    @Option(help: "Access log, one line per connection: text, json, or off (default: the --log-format, on when --log-level is info or lower).")
    var accessLog: AccessLogFormat?

    enum AccessLogFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, off
    }

    @Option(help: "TLS key exchange: hybrid (X25519MLKEM768, post-quantum, then X25519/P-256) or classic (X25519/P-256).")
    var tlsKeyExchange: MeshTLS.KeyExchange = .hybrid

    @Option(help: "HBONE connection pooling: on (streams share connections) or off (one TLS connection per connection).")
    var hbonePool: Toggle = .on

    @Option(help: "HTTP/2 receive window per HBONE stream, in KiB (ztunnel's HTTP2_STREAM_WINDOW_SIZE).")
    var hboneStreamWindowKib: Int = HBONEConfiguration().streamWindow >> 10

    @Option(help: "HTTP/2 receive window per HBONE connection, in KiB (ztunnel's HTTP2_CONNECTION_WINDOW_SIZE).")
    var hboneConnectionWindowKib: Int = HBONEConfiguration().connectionWindow >> 10

    enum Toggle: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }

    func validate() throws {
        guard (64...(1 << 20)).contains(hboneStreamWindowKib), (64...(1 << 20)).contains(hboneConnectionWindowKib) else {
            throw ValidationError("HBONE windows must be between 64 KiB and 1 GiB")
        }
        guard hboneConnectionWindowKib > hboneStreamWindowKib else {
            throw ValidationError(
                "--hbone-connection-window-kib must be larger than --hbone-stream-window-kib (equal windows can deadlock)"
            )
        }
        for value in upstream {
            do {
                _ = try UpstreamSpec(parsing: value)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        do {
            _ = try endpointAddresses()
            _ = try TrafficLabelSet(spec: metricLabels)
        } catch let error as TrafficLabelSet.SpecError {
            throw ValidationError("--metric-labels: \(error)")
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The admin, metrics and readiness addresses (`nil`: off).
    private func endpointAddresses() throws(EndpointAddress.ParseError) -> (admin: HostPort?, metrics: HostPort?, readiness: HostPort?) {
        (
            try EndpointAddress.parse(adminAddress, option: "--admin-address", loopbackOnly: true),
            try EndpointAddress.parse(metricsAddress, option: "--metrics-address"),
            try EndpointAddress.parse(readinessAddress, option: "--readiness-address")
        )
    }

    func run() async throws {
        let format = logFormat
        let level = logLevel
        let accessFormat = accessLog ?? (logFormat == .json ? .json : .text)
        // Without --access-log, the access log follows --log-level (on at info and below), as ztunnel's does.
        let accessEnabled = accessLog.map { $0 != .off } ?? (level <= .info)
        let levels = RuntimeLogLevels(default: level, accessEnabled: accessEnabled)
        DaemonStartup.bootstrapLogging(
            format: format, accessFormat: accessFormat == .json ? .json : .text, level: level, levels: levels
        )
        let logger = Logger(label: "weft.node")
        let (ca, _, snapshot) = try DaemonStartup.load(caDir: caDir, paths: config, logger: logger)
        var configuration = NodeDaemon.Configuration(node: node)
        configuration.certificateLifetime = certTtl.seconds
        configuration.drainTimeout = .milliseconds(Int(drainTimeout.seconds * 1000))
        if let threads { configuration.eventLoopThreads = threads }
        configuration.configPaths = config
        configuration.upstreams = try upstream.map { try UpstreamSpec(parsing: $0) }
        let addresses = try endpointAddresses()
        configuration.adminAddress = addresses.admin
        configuration.metricsAddress = addresses.metrics
        configuration.readinessAddress = addresses.readiness
        configuration.trafficLabels = try TrafficLabelSet(spec: metricLabels)
        configuration.logLevels = levels
        configuration.version = Weft.configuration.version
        configuration.hbone.pooling = hbonePool == .on
        configuration.hbone.keyExchange = tlsKeyExchange
        configuration.hbone.streamWindow = hboneStreamWindowKib << 10
        configuration.hbone.connectionWindow = hboneConnectionWindowKib << 10
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
extension MeshTLS.KeyExchange: ExpressibleByArgument {}
