// swift-tools-version:6.2
import PackageDescription

// MARK: - Shared settings

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "weft",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "weft", targets: ["weft"]),
        // Libraries for the micro-benchmarks package (Benchmarks/) and for embedding; the CLI is the product.
        .library(name: "WeftModel", targets: ["WeftModel"]),
        .library(name: "WeftConfig", targets: ["WeftConfig"]),
        .library(name: "WeftPolicy", targets: ["WeftPolicy"]),
        .library(name: "WeftRoute", targets: ["WeftRoute"]),
        .library(name: "WeftCluster", targets: ["WeftCluster"]),
        .library(name: "WeftIdentity", targets: ["WeftIdentity"]),
        .library(name: "WeftTLS", targets: ["WeftTLS"]),
        .library(name: "WeftHBONE", targets: ["WeftHBONE"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // OTLP/HTTP only: the gRPC exporter's dependencies are not needed.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.3.0"),
    ],
    targets: [
        // MARK: - Pure value types
        .target(name: "WeftModel", swiftSettings: swiftSettings),
        // AuthorizationPolicy evaluation, shared by the node (L4) and the waypoint (L7).
        .target(name: "WeftPolicy", dependencies: ["WeftModel"], swiftSettings: swiftSettings),
        // Gateway API HTTPRoute/GRPCRoute matching, precedence, backends and filters, for the waypoint (L7).
        .target(name: "WeftRoute", dependencies: ["WeftModel"], swiftSettings: swiftSettings),
        // Per-cluster upstream behaviour (load balancing, outlier detection, circuit breaking, rate limiting): pure.
        .target(name: "WeftCluster", dependencies: ["WeftRoute", "WeftModel"], swiftSettings: swiftSettings),
        .target(
            name: "WeftConfig",
            dependencies: ["WeftModel", "WeftPolicy", "WeftRoute", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // MARK: - Identity and TLS
        .target(
            name: "WeftIdentity",
            dependencies: [
                "WeftModel",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftTLS",
            dependencies: [
                "WeftIdentity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: - Telemetry
        // Istio's traffic metrics and access-log records, pure label/format code plus the Prometheus registry.
        .target(
            name: "WeftTelemetry",
            dependencies: [
                "WeftModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: - Linux: namespaces, nftables, socket options
        .target(
            name: "CWeftLinux",
            linkerSettings: [.linkedLibrary("nftables"), .linkedLibrary("mnl")]
        ),
        .target(name: "WeftRedirect", dependencies: ["CWeftLinux"], swiftSettings: swiftSettings),
        // MARK: - Data path
        .target(
            name: "WeftHBONE",
            dependencies: [
                "WeftModel", "WeftTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftNode",
            dependencies: [
                "WeftModel", "WeftConfig", "WeftPolicy", "WeftIdentity", "WeftTLS", "WeftHBONE", "WeftRedirect", "CWeftLinux",
                "WeftTelemetry", "WeftRoute", "WeftWaypoint",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftWaypoint",
            dependencies: [
                "WeftModel", "WeftRoute", "WeftCluster", "WeftHBONE", "WeftPolicy",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "WeftLab", dependencies: ["WeftIdentity"], swiftSettings: swiftSettings),
        // MARK: - Executable
        .executableTarget(
            name: "weft",
            dependencies: [
                "WeftModel", "WeftConfig", "WeftPolicy", "WeftIdentity", "WeftNode", "WeftHBONE", "WeftLab", "WeftTelemetry",
                "WeftTLS", "WeftRoute", "WeftWaypoint",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: - Tests
        .testTarget(name: "WeftModelTests", dependencies: ["WeftModel"], swiftSettings: swiftSettings),
        .testTarget(name: "WeftPolicyTests", dependencies: ["WeftPolicy", "WeftModel"], swiftSettings: swiftSettings),
        .testTarget(name: "WeftRouteTests", dependencies: ["WeftRoute", "WeftModel"], swiftSettings: swiftSettings),
        .testTarget(name: "WeftClusterTests", dependencies: ["WeftCluster", "WeftRoute"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WeftWaypointTests",
            dependencies: [
                "WeftWaypoint", "WeftNode", "WeftConfig", "WeftRoute", "WeftModel",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftConfigTests", dependencies: ["WeftConfig", "WeftModel", "WeftPolicy", "WeftRoute"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftIdentityTests",
            dependencies: [
                "WeftIdentity", "WeftModel",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftHBONETests",
            dependencies: [
                "WeftHBONE", "WeftModel", "WeftTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftTelemetryTests",
            dependencies: [
                "WeftTelemetry", "WeftModel",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "WeftRedirectTests", dependencies: ["WeftRedirect"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WeftNodeTests",
            dependencies: ["WeftNode", "WeftModel", "WeftConfig", .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
