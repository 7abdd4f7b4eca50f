// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The application protocol of a Service port, classified as Istio does (`ConvertProtocol` in istio/istio's
/// Kubernetes registry): from `appProtocol` when set, otherwise from the port name's prefix before the
/// first `-` (`http-web` → ``http``, `grpc-web-ui` → ``grpcWeb``). Case does not matter; an unknown or
/// missing protocol is ``tcp``, which a waypoint treats as opaque bytes.
public enum AppProtocol: String, Hashable, Sendable, CaseIterable {
    /// HTTP/1.1 (or upgraded to HTTP/2 by the client).
    case http
    /// HTTP/2 over cleartext (`http2`, `kubernetes.io/h2c`).
    case http2
    /// HTTP over TLS that the application terminates; opaque to a waypoint.
    case https
    /// gRPC (HTTP/2).
    case grpc
    /// gRPC-Web (HTTP/1.1 or HTTP/2).
    case grpcWeb = "grpc-web"
    /// TLS the application terminates; opaque to a waypoint.
    case tls
    /// Plain TCP, and anything not recognised.
    case tcp
    /// MongoDB wire protocol.
    case mongo
    /// MySQL wire protocol.
    case mysql
    /// Redis wire protocol.
    case redis

    /// Classifies a port.
    ///
    /// - Parameters:
    ///   - appProtocol: The port's `appProtocol` (a ServiceEntry's `protocol`). When set, the name is not
    ///     consulted, even if the value is unknown. The Kubernetes standard names are understood:
    ///     `kubernetes.io/h2c` is ``http2``, `kubernetes.io/ws` is ``http`` and `kubernetes.io/wss` is
    ///     ``https``.
    ///   - portName: The port's `name`, read by its prefix when `appProtocol` is absent.
    public init(appProtocol: String?, portName: String?) {
        let source: String
        if let appProtocol, !appProtocol.isEmpty {
            switch appProtocol {
            case "kubernetes.io/h2c":
                self = .http2
                return
            case "kubernetes.io/ws":
                self = .http
                return
            case "kubernetes.io/wss":
                self = .https
                return
            default:
                source = appProtocol
            }
        } else {
            source = portName ?? ""
        }
        let lowered = source.lowercased()
        // `grpc-web` contains the separator, so it is recognised before the prefix is cut at the first `-`.
        if lowered.hasPrefix("grpc-web") {
            self = .grpcWeb
            return
        }
        let prefix = lowered.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        self = Self(rawValue: String(prefix)) ?? .tcp
    }

    /// Whether a waypoint can read the traffic as HTTP: ``http``, ``http2``, ``grpc`` or ``grpcWeb``.
    public var isHTTP: Bool {
        switch self {
        case .http, .http2, .grpc, .grpcWeb: return true
        case .https, .tls, .tcp, .mongo, .mysql, .redis: return false
        }
    }

    /// Whether the protocol is HTTP/2 from the first byte: ``http2`` or ``grpc``.
    public var isHTTP2: Bool { self == .http2 || self == .grpc }

    /// Whether the application itself speaks TLS: ``https`` or ``tls``.
    public var isTLS: Bool { self == .https || self == .tls }
}

extension ServicePort {
    /// The port's protocol as Istio classifies it from ``appProtocol`` and ``name`` (see ``AppProtocol``).
    public var resolvedAppProtocol: AppProtocol { AppProtocol(appProtocol: appProtocol, portName: name) }
}
