// swift-tools-version:6.0
import PackageDescription

/// Every Swift target builds in Swift 6 language mode with complete strict concurrency checking.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "CohortSync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cohortsync", targets: ["CLI"]),
        .executable(name: "cohortsync-sandbox", targets: ["Sandbox"]),
        .executable(name: "cohortsync-ingest", targets: ["Ingest"]),
        .executable(name: "cohortsync-normalize", targets: ["Normalize"]),
        .executable(name: "cohortsync-batcher", targets: ["Batcher"]),
        .executable(name: "cohortsync-upload-x", targets: ["UploadX"]),
        .executable(name: "cohortsync-upload-tiktok", targets: ["UploadTikTok"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "Observability", targets: ["Observability"]),
        .library(name: "Hashing", targets: ["Hashing"]),
    ],
    targets: [
        // C libraries from Debian. Only the wrapper module named beside each may import it.
        .systemLibrary(
            name: "CRdKafka", path: "Shared/CRdKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),  // wrapped by Kafka
        .systemLibrary(
            name: "CCrypto", path: "Shared/CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),  // wrapped by Hashing
        .systemLibrary(
            name: "CMicroHTTPD", path: "Shared/CMicroHTTPD", pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]),  // wrapped by Runtime

        .target(name: "Kafka", dependencies: ["CRdKafka", "Observability"], path: "Shared/Kafka", swiftSettings: strict),
        .target(name: "Hashing", dependencies: ["CCrypto"], path: "Shared/Hashing", swiftSettings: strict),
        .target(
            name: "Wire", path: "Shared/Wire", exclude: ["cohortsync.proto"], swiftSettings: strict),
        // Logs and metrics, no C: what the Kafka client needs, without linking an HTTP server.
        .target(name: "Observability", path: "Shared/Observability", swiftSettings: strict),
        // Lifecycle, command line and the HTTP listener (libmicrohttpd).
        .target(name: "Runtime", dependencies: ["CMicroHTTPD", "Observability"], path: "Shared/Runtime", swiftSettings: strict),
        // Outgoing HTTP (FoundationNetworking), retry backoff and client-side rate limits.
        .target(name: "HTTPClient", dependencies: ["Observability"], path: "Shared/HTTPClient", swiftSettings: strict),
        .target(name: "Destinations", dependencies: ["Hashing", "HTTPClient", "Wire"], path: "Shared/Destinations", swiftSettings: strict),
        .target(name: "Identity", dependencies: ["Hashing", "Wire"], path: "Shared/Identity", swiftSettings: strict),
        .target(name: "JSON", path: "Shared/JSON", swiftSettings: strict),
        .target(name: "Config", dependencies: ["Identity", "JSON", "Wire"], path: "Shared/Config", swiftSettings: strict),
        .target(name: "Stage", dependencies: ["Config", "Kafka", "Observability", "Runtime", "Wire"], path: "Shared/Stage", swiftSettings: strict),

        .executableTarget(
            name: "CLI", dependencies: ["Config", "Destinations", "HTTPClient", "Kafka", "Wire", "Observability", "Runtime", "Identity", "Stage", "Upload"],
            path: "Services/CLI",
            swiftSettings: strict),

        // Each stage: its logic in a library (`Core`, tested and benchmarked in process), `main.swift` wiring it.
        .target(
            name: "IngestCore", dependencies: ["Stage", "Config", "JSON", "Kafka", "Observability", "Wire", "Hashing"], path: "Services/Ingest/Core",
            swiftSettings: strict),
        .executableTarget(
            name: "Ingest", dependencies: ["IngestCore", "Stage", "Kafka", "Observability", "Runtime", "Wire"], path: "Services/Ingest", exclude: ["Core"],
            swiftSettings: strict),
        .target(
            name: "NormalizeCore", dependencies: ["Stage", "Config", "Hashing", "Identity", "Kafka", "Observability", "Wire"], path: "Services/Normalize/Core",
            swiftSettings: strict),
        .executableTarget(
            name: "Normalize", dependencies: ["NormalizeCore", "Stage", "Kafka", "Observability", "Runtime", "Wire"], path: "Services/Normalize",
            exclude: ["Core"], swiftSettings: strict),
        .target(
            name: "BatcherCore", dependencies: ["Stage", "Config", "Hashing", "Kafka", "Observability", "Runtime", "Wire"], path: "Services/Batcher/Core",
            swiftSettings: strict),
        .executableTarget(
            name: "Batcher", dependencies: ["BatcherCore", "Stage", "Kafka", "Observability", "Runtime", "Wire"], path: "Services/Batcher",
            exclude: ["Core"], swiftSettings: strict),
        // One upload engine for every destination; the uploaders differ only in the client they wire.
        .target(
            name: "Upload", dependencies: ["Config", "Destinations", "HTTPClient", "Kafka", "Observability", "Runtime", "Stage", "Wire"],
            path: "Shared/Upload", swiftSettings: strict),
        .executableTarget(
            name: "UploadX", dependencies: ["Upload"], path: "Services/UploadX", swiftSettings: strict),
        .executableTarget(
            name: "UploadTikTok", dependencies: ["Upload"], path: "Services/UploadTikTok",
            swiftSettings: strict),
        .executableTarget(
            name: "Sandbox", dependencies: ["Observability", "Runtime", "Destinations", "Hashing", "JSON", "Wire"], path: "Services/Sandbox", swiftSettings: strict),

        // Benchmarks are programs, run by scripts/bench-*; numbers in docs/benchmarks.md.
        .executableTarget(
            name: "SandboxBench", dependencies: ["Destinations", "Hashing", "Observability", "Runtime"], path: "Benchmarks/SandboxBench",
            swiftSettings: strict),

        .executableTarget(
            name: "StageBench", dependencies: ["IngestCore", "NormalizeCore", "Config", "Kafka", "Observability", "Runtime", "Wire"],
            path: "Benchmarks/StageBench", swiftSettings: strict),

        .executableTarget(
            name: "BatcherBench", dependencies: ["BatcherCore", "Config", "Kafka", "Runtime", "Wire"], path: "Benchmarks/BatcherBench",
            swiftSettings: strict),

        .executableTarget(
            name: "UploadBench", dependencies: ["Hashing", "Kafka", "Observability", "Runtime", "Wire"], path: "Benchmarks/UploadBench",
            swiftSettings: strict),

        .executableTarget(
            name: "LatencyProbe", dependencies: ["Hashing", "Kafka", "Observability", "Runtime"], path: "Benchmarks/LatencyProbe", swiftSettings: strict),

        .executableTarget(
            name: "IdentityBench", dependencies: ["Identity", "Hashing", "Observability", "Runtime", "Wire"], path: "Benchmarks/IdentityBench", swiftSettings: strict),

        // A consumer-group member driven by the Kafka integration tests (a separate process, so it can be SIGKILLed).
        .executableTarget(
            name: "KafkaGroupMember", dependencies: ["Kafka", "Observability", "Runtime", "Stage"], path: "Tests/Helpers/KafkaGroupMember",
            swiftSettings: strict),

        // Helpers shared by the test targets: child processes, build products, the test broker.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),

        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "Observability", "Stage", "TestSupport", "KafkaGroupMember"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RuntimeTests", dependencies: ["Observability", "Runtime", "TestSupport", "KafkaGroupMember"], swiftSettings: strict),
        .testTarget(name: "HashingTests", dependencies: ["Hashing"], swiftSettings: strict),
        .testTarget(name: "StageTests", dependencies: ["Stage", "Kafka"], swiftSettings: strict),
        .testTarget(name: "DestinationsTests", dependencies: ["Destinations", "HTTPClient", "Runtime", "Wire"], swiftSettings: strict),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Identity", "TestSupport", "Wire"], swiftSettings: strict),
        .testTarget(
            name: "UploadTests", dependencies: ["Upload", "Config", "Destinations", "HTTPClient", "Observability", "Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["CLI", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "PipelineTests", dependencies: ["Ingest", "Normalize", "UploadX", "UploadTikTok", "Sandbox", "Kafka", "Observability", "Runtime", "Stage", "Wire", "Hashing", "Identity", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "IngestTests", dependencies: ["IngestCore", "Config", "Hashing", "JSON", "Kafka", "Observability", "Runtime", "Stage", "Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "NormalizeTests", dependencies: ["NormalizeCore", "Config", "Hashing", "Kafka", "Wire", "Stage", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "IdentityTests", dependencies: ["Identity", "Hashing", "Wire"], resources: [.copy("identity-vectors.tsv")], swiftSettings: strict),
        .testTarget(
            name: "BatcherTests", dependencies: ["BatcherCore", "Batcher", "Ingest", "Normalize", "Config", "Hashing", "Kafka", "Observability", "Stage", "Wire", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "Destinations", "Hashing", "Observability", "Runtime", "TestSupport", "Wire"], swiftSettings: strict),
    ]
)
