import Foundation
import HardeningTestKit
import HardeningTestSupport
import Testing

/// `hardening health-check` as cron runs it: a real child process, exit codes and health+json.
@Suite struct HealthCheckProcessTests {
    private let hardening = ChildProcess.hardeningExecutable

    @Test func exitCodesFollowTheVerdictAndJSONFollowsTheDraft() async throws {
        let healthy = try await ChildProcess.runDetached([hardening, "health-check", "--disk", "tmp=/tmp:1", "--format", "json"])
        #expect(healthy.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: healthy.stdout) as? [String: Any])
        #expect(document["status"] as? String == "pass")
        let checks = try #require(document["checks"] as? [String: [[String: Any]]])
        #expect(checks["tmp:responseTime"]?.first?["status"] as? String == "pass")
        #expect(checks["tmp:responseTime"]?.first?["time"] is String && checks["tmp:responseTime"]?.first?["observedValue"] is Double)

        // Port 1 on loopback refuses: critical → unhealthy (1), non-critical → degraded (2).
        let unhealthy = try await ChildProcess.runDetached([hardening, "health-check", "--tcp", "db=127.0.0.1:1", "--disk", "tmp=/tmp:1"])
        #expect(unhealthy.status == 1)
        let report = String(decoding: unhealthy.stdout, as: UTF8.self)
        #expect(report.contains("❌ db: UNHEALTHY\n") && report.contains("refused") && report.contains("❌ System is unhealthy: db failing"), "\(report)")
        #expect(report.contains("✅ tmp: HEALTHY\n") && report.contains("   Latency: "), "the guide's block per check: \(report)")
        let degraded = try await ChildProcess.runDetached([hardening, "health-check", "--tcp", "db=127.0.0.1:1", "--non-critical", "db", "--disk", "tmp=/tmp:1"])
        #expect(degraded.status == 2)
        #expect(String(decoding: degraded.stdout, as: UTF8.self).contains("⚠️ System is degraded: db failing (non-critical)"))

        let usage = try await ChildProcess.runDetached([hardening, "health-check", "--http", "api=ftp://example"])
        #expect(usage.status == 64 && usage.stderr.contains("NAME=URL"), "\(usage.stderr)")
        let badSpec = try await ChildProcess.runDetached([hardening, "health-check", "--tcp", "db"])
        #expect(badSpec.status == 64 && badSpec.stderr.contains("NAME=HOST:PORT"))
        let help = try await ChildProcess.runDetached([hardening, "health-check", "--help"])
        let helpText = String(decoding: help.stdout, as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(helpText.contains("0 healthy, 1 unhealthy, 2 degraded") && helpText.contains("OPENAI_BASE_URL"), "\(helpText)")
    }
}
