// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every target we own: Swift 6 language mode (strict concurrency) and
/// warnings treated as errors. `treatAllWarnings` is a package-local setting, so packages that
/// depend on us are not broken by a future compiler warning.
let strictSettings: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// What only the agent, the command-line tool, the examples and their tests use: the server and
/// client stack (SwiftNIO, Hummingbird, AsyncHTTPClient with BoringSSL), Yams and
/// ArgumentParser. A service that depends on `Hardening` and `HardeningLog` with
/// `traits: []` on its `.package` line neither fetches nor builds any of them.
let agent = TargetDependencyCondition.when(traits: ["Agent"])

/// What only the OTLP exporter uses: swift-otel (with its OTLP/HTTP exporter, AsyncHTTPClient and
/// SwiftProtobuf). A service that leaves the `OTLP` trait off neither fetches nor builds it.
let otlp = TargetDependencyCondition.when(traits: ["OTLP"])

/// The HTTP server and client that the agent and the demo build on (with the trait only).
let serverStack: [Target.Dependency] = [
    .product(name: "Hummingbird", package: "hummingbird", condition: agent),
    .product(name: "AsyncHTTPClient", package: "async-http-client", condition: agent),
    .product(name: "NIOCore", package: "swift-nio", condition: agent),
    .product(name: "NIOHTTP1", package: "swift-nio", condition: agent),
    .product(name: "HTTPTypes", package: "swift-http-types", condition: agent),
]

/// Services, signals, logging and tracing, for every target that runs a `ServiceGroup`.
let serviceStack: [Target.Dependency] = [
    .product(name: "Instrumentation", package: "swift-distributed-tracing"),
    .product(name: "Tracing", package: "swift-distributed-tracing"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    .product(name: "UnixSignals", package: "swift-service-lifecycle"),
    .product(name: "Logging", package: "swift-log"),
]

let package = Package(
    name: "swift-hardening",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Hardening", targets: ["Hardening"]),
        .library(name: "HardeningLog", targets: ["HardeningLog"]),
        .library(name: "HardeningAgent", targets: ["HardeningAgent"]),
        .library(name: "HardeningTestKit", targets: ["HardeningTestKit"]),
        .library(name: "HardeningOTel", targets: ["HardeningOTel"]),
        .executable(name: "hardening", targets: ["hardening"]),
    ],
    traits: [
        .trait(name: "Agent", description: "HardeningAgent, the hardening tool and the examples, with their server and client dependencies."),
        .trait(name: "OTLP", description: "HardeningOTel's OTLP/HTTP export of traces, metrics and logs through swift-otel."),
        .default(enabledTraits: ["Agent", "OTLP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP/HTTP only: the gRPC exporter would add grpc-swift-2 and its transport to the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(
            name: "Hardening",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HardeningOTel",
            dependencies: [
                "Hardening",
                .product(name: "OTel", package: "swift-otel", condition: otlp),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HardeningLog",
            dependencies: [
                "Hardening", "CZlib",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HardeningAgent",
            dependencies: ["Hardening", "HardeningLog", "HardeningOTel"] + serverStack + serviceStack + [
                .product(name: "Yams", package: "Yams", condition: agent),
                .product(name: "NIOPosix", package: "swift-nio", condition: agent),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HardeningTestKit",
            dependencies: ["Hardening", "HardeningLog"],
            swiftSettings: strictSettings
        ),
        // Not products: what the tool, the benchmarks and the tests share, kept out of the libraries.
        .target(
            name: "HardeningWorkload",
            dependencies: ["Hardening"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HardeningDemo",
            dependencies: ["Hardening", "HardeningLog", "HardeningAgent", "HardeningOTel"] + serverStack + serviceStack,
            swiftSettings: strictSettings
        ),
        .target(
            name: "HardeningTestSupport",
            dependencies: ["Hardening", "HardeningLog", "HardeningTestKit"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hardening",
            dependencies: [
                "Hardening",
                "HardeningLog",
                "HardeningAgent",
                "HardeningDemo",
                "HardeningOTel",
                "HardeningWorkload",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: agent),
                .product(name: "AsyncHTTPClient", package: "async-http-client", condition: agent),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hardening-example-app",
            dependencies: [
                "Hardening", "HardeningLog", "HardeningAgent",
            ] + serverStack + serviceStack,
            path: "examples/EmbeddedApp",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hardening-bench",
            dependencies: [
                "Hardening", "HardeningLog", "HardeningWorkload", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: agent),
            ],
            path: "tools/bench/Sources/hardening-bench",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hardening-fuzz",
            dependencies: ["HardeningTestKit", "HardeningTestSupport"],
            path: "tools/fuzz/Sources/hardening-fuzz",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HardeningTests",
            dependencies: [
                "Hardening", "HardeningLog", "HardeningTestKit", "HardeningTestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HardeningLogTests",
            dependencies: ["Hardening", "HardeningLog", "HardeningTestKit", "HardeningTestSupport", "HardeningWorkload", "CZlib"],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HardeningAgentTests",
            dependencies: [
                "hardening", "Hardening", "HardeningLog", "HardeningAgent", "HardeningDemo", "HardeningOTel", "HardeningTestKit", "HardeningTestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel", condition: otlp),
                .product(name: "Yams", package: "Yams", condition: agent),
                .product(name: "Metrics", package: "swift-metrics"),
            ] + serverStack + serviceStack,
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HardeningCLITests",
            dependencies: ["Hardening", "HardeningLog", "HardeningTestKit", "HardeningTestSupport", "hardening"],
            swiftSettings: strictSettings
        ),
    ]
)
