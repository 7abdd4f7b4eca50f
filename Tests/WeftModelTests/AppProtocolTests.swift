// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel

/// Istio's classification of a Service port's protocol, from `appProtocol` or the port name.
@Suite("AppProtocol")
struct AppProtocolTests {
    @Test(
        "Classified as Istio does",
        arguments: [
            // Port names: the prefix before the first '-', case-insensitive.
            (nil, "http", AppProtocol.http),
            (nil, "http-web", .http),
            (nil, "HTTP-Web", .http),
            (nil, "http2", .http2),
            (nil, "http2-api", .http2),
            (nil, "https-admin", .https),
            (nil, "grpc", .grpc),
            (nil, "grpc-api", .grpc),
            (nil, "grpc-web", .grpcWeb),
            (nil, "grpc-web-ui", .grpcWeb),
            (nil, "tcp-db", .tcp),
            (nil, "tls-passthrough", .tls),
            (nil, "mongo-primary", .mongo),
            (nil, "mysql", .mysql),
            (nil, "redis-cache", .redis),
            (nil, "web", .tcp),
            (nil, "httpx", .tcp),
            (nil, "h2c", .tcp),
            (nil, nil, .tcp),
            // appProtocol wins over the name, even when unknown.
            ("kubernetes.io/h2c", "tcp", .http2),
            ("kubernetes.io/ws", nil, .http),
            ("kubernetes.io/wss", nil, .https),
            ("http", "tcp-db", .http),
            ("HTTP2", nil, .http2),
            ("grpc-web", nil, .grpcWeb),
            ("prometheus", "http-metrics", .tcp),
            ("", "grpc-api", .grpc),
        ] as [(String?, String?, AppProtocol)]
    )
    func classification(appProtocol: String?, name: String?, expected: AppProtocol) {
        #expect(AppProtocol(appProtocol: appProtocol, portName: name) == expected)
        #expect(ServicePort(name: name, port: 80, appProtocol: appProtocol).resolvedAppProtocol == expected)
    }

    @Test("HTTP, HTTP/2 and TLS families")
    func families() {
        #expect(AppProtocol.allCases.filter(\.isHTTP) == [.http, .http2, .grpc, .grpcWeb])
        #expect(AppProtocol.allCases.filter(\.isHTTP2) == [.http2, .grpc])
        #expect(AppProtocol.allCases.filter(\.isTLS) == [.https, .tls])
    }
}
