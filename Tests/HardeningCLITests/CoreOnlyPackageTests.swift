import Foundation
import HardeningTestKit
import HardeningTestSupport
import Testing

/// `examples/CoreOnly`: a service on the core products with `traits: []` resolves without any of
/// the agent's stack (its cold build and run are `tools/core-build.sh`, timed in BENCHMARKS.md).
@Suite struct CoreOnlyPackageTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/CoreOnly").path

    @Test func aCoreOnlyServiceFetchesNoneOfTheAgentsStack() async throws {
        let scratch = TemporaryDirectory()
        defer { scratch.remove() }
        // A Package.resolved left by a build with the default traits (git-ignored) would pin, and
        // fetch, the agent's stack too: resolve afresh, and leave none behind.
        let resolved = try await ChildProcess.runDetached(["sh", "-c", "cd '\(Self.example)' && rm -f Package.resolved && "
                                                               + "swift package --scratch-path '\(scratch.path)' resolve; status=$?; rm -f Package.resolved; exit $status"])
        #expect(resolved.status == 0, "\(resolved.stderr)")
        let fetched = Set((try? FileManager.default.contentsOfDirectory(atPath: scratch.path + "/checkouts")) ?? [])
        #expect(fetched.isSuperset(of: ["swift-log", "swift-metrics", "swift-service-lifecycle", "swift-collections"]), "\(fetched.sorted())")
        let agentStack: Set = ["swift-nio", "swift-nio-ssl", "hummingbird", "async-http-client", "Yams", "swift-argument-parser", "swift-crypto",
                               "swift-otel", "swift-protobuf", "swift-w3c-trace-context"]
        #expect(fetched.isDisjoint(with: agentStack), "fetched for a core-only service: \(fetched.intersection(agentStack).sorted())")
        #expect(fetched.count <= 10, "\(fetched.sorted())")
    }
}
