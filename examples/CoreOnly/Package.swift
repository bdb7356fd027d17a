// swift-tools-version:6.2
// A service that uses only the core products, Hardening and HardeningLog: the primitives, the
// bus, stdout and rotating gzip files, and replay. `traits: []` turns off the package's default
// trait (Agent), so none of the agent's server and client stack (SwiftNIO, Hummingbird,
// AsyncHTTPClient, BoringSSL, Yams, ArgumentParser) is fetched or built. `tools/core-build.sh`
// builds it cold and counts what was fetched.
import Foundation
import PackageDescription

/// A path dependency is named after its folder: this repository's, wherever it was cloned.
let hardening = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// `traits: []`; `HARDENING_DEFAULT_TRAITS=1` (`tools/core-build.sh --default-traits`) builds the
/// same service with the default traits, for the comparison in BENCHMARKS.md.
let traits: Set<Package.Dependency.Trait> = Context.environment["HARDENING_DEFAULT_TRAITS"] == "1" ? [.defaults] : []

let package = Package(
    name: "core-only-service",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your own service: .package(url: "https://github.com/OWNER/swift-hardening", branch: "main", traits: []),
        // and package: "swift-hardening" below.
        .package(path: "../..", traits: traits),
    ],
    targets: [
        .executableTarget(
            name: "CoreOnlyService",
            dependencies: [
                .product(name: "Hardening", package: hardening),
                .product(name: "HardeningLog", package: hardening),
            ]
        ),
    ]
)
