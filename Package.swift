// swift-tools-version:6.2
import PackageDescription

/// Release builds drop the runtime exclusivity checks (the compile-time ones stay): on the proxy's hot path they
/// cost ~5% of user CPU (swift_beginAccess and a thread-local access set per class-property access). Debug builds,
/// which `make test` runs, keep them, so the test suite still traps on an overlapping access.
let gatewaySettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "session-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "session-gateway", targets: ["session-gateway"]),
        // fuzz-h2-server (issue 19): client bytes into HTTP2ServerSession with a fake upstream; see Tests/Fuzz/h2-server.
        .executable(name: "fuzz-h2-server", targets: ["fuzz-h2-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CEpoll"),
        // ThreadSanitizer annotations (weak symbols, live only under --sanitize=thread) for GatewayCore's `Locked`.
        .systemLibrary(name: "CTSan"),

        .target(name: "GatewayCore", dependencies: ["CTSan"], swiftSettings: gatewaySettings),
        .target(name: "GatewayAuth", dependencies: ["GatewayCore", "COpenSSL"], swiftSettings: gatewaySettings),
        .target(name: "GatewayConfig", dependencies: ["GatewayCore", .product(name: "Yams", package: "Yams")], swiftSettings: gatewaySettings),
        .target(name: "GatewayHTTP1", dependencies: ["GatewayCore"], swiftSettings: gatewaySettings),
        .target(name: "GatewayHTTP2", dependencies: ["GatewayCore", "CNghttp2"], swiftSettings: gatewaySettings),
        .target(name: "GatewayTLS", dependencies: ["GatewayCore", "COpenSSL"], swiftSettings: gatewaySettings),
        .target(name: "GatewayLoop", dependencies: ["GatewayCore", "CEpoll"], swiftSettings: gatewaySettings),
        .target(name: "GatewayTransport", dependencies: ["GatewayCore", "GatewayLoop", "GatewayTLS"], swiftSettings: gatewaySettings),
        .target(name: "GatewayReplay", dependencies: ["GatewayCore", "GatewayLoop", "GatewayTLS", "GatewayTransport", "CHiredis",
                                                .product(name: "Logging", package: "swift-log")], swiftSettings: gatewaySettings),
        .target(name: "GatewayProxy", dependencies: [
            "GatewayCore", "GatewayAuth", "GatewayConfig", "GatewayHTTP1", "GatewayHTTP2",
            "GatewayTLS", "GatewayLoop", "GatewayTransport", "GatewayReplay",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ], swiftSettings: gatewaySettings),
        .executableTarget(name: "session-gateway", dependencies: [
            "GatewayCore", "GatewayAuth", "GatewayConfig", "GatewayReplay", "GatewayLoop", "GatewayProxy",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: gatewaySettings,
        // jemalloc takes over malloc for the whole process (as in nghttpx): with dozens of exchanges in flight,
        // glibc's per-thread cache overflows and most allocations take its slow path.
        linkerSettings: [.linkedLibrary("jemalloc")]),

        // fuzz-h2-server (issue 19): the checks live in FuzzH2Support, which the corpus replay test runs too; main.swift
        // holds only the libFuzzer entry point. Build and run: make fuzz-h2-server (it adds -Xswiftc -sanitize=fuzzer,address:
        // swiftc keeps only the last of SwiftPM's two -sanitize= flags).
        .target(name: "FuzzH2Support", dependencies: ["GatewayHTTP2", "GatewayCore", "CNghttp2"]),
        .executableTarget(name: "fuzz-h2-server", dependencies: ["FuzzH2Support"], path: "Sources/FuzzTargets/h2-server"),

        .executableTarget(name: "bench-auth", dependencies: ["GatewayAuth", "GatewayCore"], path: "Benchmarks/bench-auth"),
        .executableTarget(name: "bench-replay", dependencies: ["GatewayReplay", "GatewayCore"], path: "Benchmarks/bench-replay"),

        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "TestSupport"]),
        .testTarget(name: "GatewayAuthTests", dependencies: ["GatewayAuth", "GatewayCore", "TestSupport"]),
        .testTarget(name: "GatewayConfigTests", dependencies: ["GatewayConfig", "GatewayCore"]),
        .testTarget(name: "GatewayHTTP1Tests", dependencies: ["GatewayHTTP1", "GatewayCore", "TestSupport"]),
        .testTarget(name: "GatewayHTTP2Tests", dependencies: ["GatewayHTTP2", "GatewayCore", "HTTP2TestSupport", "FuzzH2Support"]),
        .testTarget(name: "GatewayTLSTests", dependencies: ["GatewayTLS", "GatewayCore"]),
        .testTarget(name: "GatewayLoopTests", dependencies: ["GatewayLoop", "GatewayCore"]),
        // Helpers for more than one test target (a test target cannot import another's files).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // A real nghttp2 client for the HTTP/2 tests, kept out of GatewayHTTP2 so production code never ships it.
        .target(name: "HTTP2TestSupport", dependencies: ["CNghttp2"], path: "Tests/HTTP2TestSupport"),
        .testTarget(name: "GatewayReplayTests", dependencies: ["GatewayReplay", "GatewayCore", "TestSupport"]),
        .testTarget(name: "GatewayProxyTests", dependencies: ["GatewayProxy", "GatewayCore"]),
        .testTarget(name: "IntegrationTests", dependencies: ["GatewayProxy", "GatewayCore", "GatewayAuth", "GatewayConfig", "GatewayHTTP2",
                                                    "GatewayReplay", "TestSupport", "HTTP2TestSupport",
                                                    // Reads the deploy/ manifests and compose file (DeployFilesTests).
                                                    .product(name: "Yams", package: "Yams")]),
    ],
    swiftLanguageModes: [.v6]
)

// MARK: - Fuzzing (issue 19)
// One libFuzzer target per name below: an executable product and target `fuzz-<name>` at Sources/FuzzTargets/<name>,
// whose main.swift only hands LLVMFuzzerTestOneInput to FuzzSupport. The invariant checks live in FuzzSupport (one file
// per target) so FuzzCorpusTests replays every seed corpus (Tests/Fuzz/<name>/corpus) through them in `make test`, and
// the debug build links every fuzz executable, so none of them rots. `make fuzz` builds each one alone with
// `--sanitize=fuzzer --sanitize=address` (see Tests/Fuzz/README.md). Adding a target is one name here.
let fuzzTargetNames = ["http1-request", "http1-response", "chunked", "path", "token", "config"]
package.products += fuzzTargetNames.map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) }
package.targets += fuzzTargetNames.map {
    .executableTarget(name: "fuzz-\($0)", dependencies: ["FuzzSupport"], path: "Sources/FuzzTargets/\($0)")
} + [
    // FuzzH2Support (fuzz-h2-server's checks, declared above) joins so FuzzChecks.byName names every target.
    .target(name: "FuzzSupport", dependencies: ["GatewayCore", "GatewayAuth", "GatewayConfig", "GatewayHTTP1", "GatewayHTTP2",
                                                "GatewayProxy", "FuzzH2Support"]),
    .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzSupport"]),
]
