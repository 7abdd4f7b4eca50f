// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Instrumentation
import Logging
import OTel
import ServiceLifecycle
import NIOCore
import WeftConfig
import WeftIdentity
import WeftNode
import WeftPolicy
import WeftRoute
import WeftTelemetry
import WeftWaypoint

struct Waypoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a waypoint: the L7 proxy (HTTP routing) for the Services that use it."
    )

    @Option(name: .long, help: "Manifest file or directory (repeatable).")
    var config: [String]

    @Option(help: "Directory of the built-in CA (see 'weft ca init').")
    var caDir: String

    @Option(help: "The waypoint workload this process runs as, <namespace>/<name> (a Pod or WorkloadEntry of the configuration).")
    var workload: String

    @Option(help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Event-loop threads (default: number of cores).")
    var threads: Int?

    @Option(help: "Prometheus metrics endpoint (/metrics): ip:port, or 'off'.")
    var metricsAddress: String = "0.0.0.0:15020"

    @Option(help: "Readiness endpoint (/healthz/ready): ip:port, or 'off'.")
    var readinessAddress: String = "0.0.0.0:15021"

    @Option(help: "Export spans over OTLP/HTTP to this collector, e.g. http://127.0.0.1:4318 (default: no tracing; trace headers pass through).")
    var otlpEndpoint: String?

    @Option(help: "OTLP encoding: http/protobuf or http/json.")
    var otlpProtocol: String = "http/protobuf"

    func validate() throws {
        if let otlpEndpoint, !(otlpEndpoint.hasPrefix("http://") || otlpEndpoint.hasPrefix("https://")) {
            throw ValidationError("--otlp-endpoint \(otlpEndpoint): use an http:// or https:// URL, e.g. http://127.0.0.1:4318")
        }
        guard ["http/protobuf", "http/json"].contains(otlpProtocol) else {
            throw ValidationError("--otlp-protocol \(otlpProtocol): use http/protobuf or http/json")
        }
        do {
            _ = try EndpointAddress.parse(metricsAddress, option: "--metrics-address")
            _ = try EndpointAddress.parse(readinessAddress, option: "--readiness-address")
        } catch {
            throw ValidationError("\(error)")
        }
    }

    @Option(help: "How long an HTTP connection may go without a complete request head (idle, or slow headers) before it is closed.")
    var headerTimeout: DurationArgument = DurationArgument(argument: "60s")!

    func run() async throws {
        let levels = RuntimeLogLevels(default: logLevel, accessEnabled: logLevel <= .info)
        DaemonStartup.bootstrapLogging(format: logFormat, accessFormat: logFormat, level: logLevel, levels: levels)
        let logger = Logger(label: "weft.waypoint")
        let (ca, result, _) = try DaemonStartup.load(caDir: caDir, paths: config, logger: logger)
        var configuration = WaypointDaemon.Configuration(workload: workload)
        if let threads { configuration.eventLoopThreads = threads }
        configuration.headerTimeout = .milliseconds(Int64(headerTimeout.seconds * 1000))
        configuration.metricsAddress = try EndpointAddress.parse(metricsAddress, option: "--metrics-address")
        configuration.readinessAddress = try EndpointAddress.parse(readinessAddress, option: "--readiness-address")
        configuration.manifestPaths = config
        let state: WaypointState
        do {
            state = try WaypointConfiguration.state(from: result, workload: workload)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        var services: [any Service] = []
        if let otlpEndpoint {
            var otel = OTel.Configuration.default
            otel.serviceName = "weft-waypoint"
            otel.resourceAttributes = ["service.instance.id": workload]
            otel.logs.enabled = false
            otel.metrics.enabled = false
            otel.traces.enabled = true
            otel.traces.exporter = .otlp
            otel.traces.otlpExporter.endpoint =
                otlpEndpoint.hasSuffix("/v1/traces") ? otlpEndpoint : otlpEndpoint.trimmingSuffix("/") + "/v1/traces"
            otel.traces.otlpExporter.protocol = otlpProtocol == "http/json" ? .httpJSON : .httpProtobuf
            otel.traces.batchSpanProcessor.scheduleDelay = .milliseconds(500)
            otel.propagators = [.traceContext]
            let backend = try OTel.makeTracingBackend(configuration: otel)
            InstrumentationSystem.bootstrap(backend.factory)
            services.append(backend.service)
            logger.info("tracing to OTLP collector", metadata: ["endpoint": "\(otel.traces.otlpExporter.endpoint)"])
        }
        do {
            try await WaypointDaemon(configuration: configuration, state: state, ca: ca, logger: logger)
                .run(additionalServices: services)
        } catch {
            logger.critical("waypoint failed: \(error)")
            throw ExitCode(1)
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
