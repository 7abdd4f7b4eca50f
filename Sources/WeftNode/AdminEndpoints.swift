// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOHTTP1
import WeftTelemetry

/// The node's three HTTP endpoints, as ztunnel has them: admin on `127.0.0.1:15000` (`/config_dump`,
/// `/logging`), Prometheus metrics on `:15020` (`/metrics`, `/stats/prometheus`) and readiness on `:15021`
/// (`/healthz/ready`).
struct AdminEndpoints: Sendable {
    let context: NodeContext
    let pods: PodManager
    let logLevels: RuntimeLogLevels?
    let version: String

    static let adminIndex = """
        weft node admin
          GET  /config_dump          workloads, services, policies, certificates (expiry, state), pods, pool, reloads (JSON)
          GET  /logging              current log levels
          POST /logging?level=L      set the daemon's level (trace, debug, info, notice, warning, error, critical);
                                     level=access=off|info switches the access log; items can be combined with ','
          GET  /metrics              Prometheus metrics (also on the metrics port)
          GET  /healthz/ready        readiness (also on the readiness port)
        """

    /// Port 15000 (loopback only).
    func admin(_ request: EndpointRequest) async -> EndpointResponse {
        switch request.path {
        case "/", "/help":
            return EndpointResponse(text: Self.adminIndex)
        case "/config_dump":
            guard request.method == .GET || request.method == .HEAD else { return Self.methodNotAllowed("GET") }
            let dump = ConfigDump(context: context, pods: await pods.enrolled, version: version)
            return EndpointResponse(contentType: "application/json", body: dump.json())
        case "/logging":
            return logging(request)
        case "/metrics", "/stats/prometheus":
            return await metrics(request)
        case "/healthz/ready":
            return await readiness(request)
        default:
            return EndpointResponse(status: .notFound, text: "no such endpoint: \(request.path.prefix(200))\n\n" + Self.adminIndex)
        }
    }

    private func logging(_ request: EndpointRequest) -> EndpointResponse {
        guard let logLevels else {
            return EndpointResponse(status: .notImplemented, text: "run-time log levels are not available in this process")
        }
        switch request.method {
        case .GET, .HEAD:
            return EndpointResponse(text: logLevels.description)
        case .POST, .PUT:
            guard let spec = request.query["level"] else {
                return EndpointResponse(status: .badRequest, text: "missing 'level', e.g. POST /logging?level=debug or ?level=access=off")
            }
            do {
                try logLevels.apply(spec)
            } catch {
                return EndpointResponse(status: .badRequest, text: error.description)
            }
            context.logger.notice("log levels changed", metadata: ["levels": "\(logLevels.description)"])
            return EndpointResponse(text: logLevels.description)
        default:
            return Self.methodNotAllowed("GET, POST")
        }
    }

    /// Port 15020.
    func metrics(_ request: EndpointRequest) async -> EndpointResponse {
        let enrolled = await pods.enrolledCount
        return Self.metrics(request) { context.telemetry.exposition(context: context, podsEnrolled: enrolled) }
    }

    /// Port 15021.
    func readiness(_ request: EndpointRequest) async -> EndpointResponse {
        Self.readiness(request, context.readiness)
    }

    /// `/metrics` and `/stats/prometheus` (GET): the Prometheus text `exposition` renders. Shared by the node and
    /// the waypoint.
    static func metrics(_ request: EndpointRequest, exposition: () -> [UInt8]) -> EndpointResponse {
        guard request.path == "/metrics" || request.path == "/stats/prometheus" else {
            return EndpointResponse(status: .notFound, text: "metrics are served on /metrics and /stats/prometheus")
        }
        guard request.method == .GET || request.method == .HEAD else { return methodNotAllowed("GET") }
        return EndpointResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: exposition())
    }

    /// `/healthz/ready`: 200 `ready`, or 503 with every reason it is not. Shared by the node and the waypoint.
    static func readiness(_ request: EndpointRequest, _ readiness: Readiness) -> EndpointResponse {
        guard request.path == "/healthz/ready" else {
            return EndpointResponse(status: .notFound, text: "readiness is served on /healthz/ready")
        }
        if let reasons = readiness.notReadyReasons {
            return EndpointResponse(status: .serviceUnavailable, text: "not ready:\n" + reasons.map { "- \($0)" }.joined(separator: "\n"))
        }
        return EndpointResponse(text: "ready")
    }

    static func methodNotAllowed(_ allowed: String) -> EndpointResponse {
        EndpointResponse(status: .methodNotAllowed, text: "method not allowed; use \(allowed)")
    }
}
