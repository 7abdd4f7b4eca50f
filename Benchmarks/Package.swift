// swift-tools-version: 6.1
// Micro-benchmarks for Weft, run with ordo-one/benchmark:
//
//     cd Benchmarks && swift package --disable-sandbox benchmark
//
// A package of its own so the main package does not depend on the benchmark tooling (and its malloc
// interposer); it uses the main package's library products through a path dependency.
import PackageDescription

let benchmarkPlugin: [Target.PluginUsage] = [.plugin(name: "BenchmarkPlugin", package: "benchmark")]

let package = Package(
    name: "weft-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "weft", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // Same lower bounds as the main package, for the types its public API exposes.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        // What the benchmark targets share: the high-resolution process CPU metric and the common configuration.
        .target(
            name: "BenchmarkSupport",
            dependencies: [.product(name: "Benchmark", package: "benchmark")]
        ),
        .executableTarget(
            name: "ManifestLoading",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                .product(name: "WeftConfig", package: "weft"),
                .product(name: "WeftModel", package: "weft"),
            ],
            path: "Benchmarks/ManifestLoading",
            plugins: benchmarkPlugin
        ),
        .executableTarget(
            name: "Certificates",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                .product(name: "WeftIdentity", package: "weft"),
                .product(name: "WeftModel", package: "weft"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Benchmarks/Certificates",
            plugins: benchmarkPlugin
        ),
        .executableTarget(
            name: "HBONEDataPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                .product(name: "WeftHBONE", package: "weft"),
                .product(name: "WeftTLS", package: "weft"),
                .product(name: "WeftIdentity", package: "weft"),
                .product(name: "WeftModel", package: "weft"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/HBONEDataPath",
            plugins: benchmarkPlugin
        ),
        .executableTarget(
            name: "PolicyEvaluation",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                .product(name: "WeftPolicy", package: "weft"),
                .product(name: "WeftModel", package: "weft"),
            ],
            path: "Benchmarks/PolicyEvaluation",
            plugins: benchmarkPlugin
        ),
        .executableTarget(
            name: "RouteMatching",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                .product(name: "WeftRoute", package: "weft"),
            ],
            path: "Benchmarks/RouteMatching",
            plugins: benchmarkPlugin
        ),
        .executableTarget(
            name: "LoadBalancing",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                .product(name: "WeftCluster", package: "weft"),
                .product(name: "WeftRoute", package: "weft"),
            ],
            path: "Benchmarks/LoadBalancing",
            plugins: benchmarkPlugin
        ),
    ],
    swiftLanguageModes: [.v6]
)
