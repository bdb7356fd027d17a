import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// The live dashboard in a real browser: `tools/dashboards/browser_check.py` starts an agent,
/// opens its `/dashboard` in headless Chromium through Selenium and chromium-driver (both from
/// `tools/setup.sh`), takes a dependency down, and waits for the page to show it without a
/// reload: the health lane red, alerts fired, the webhook's breaker open, the streamed events
/// counting up; then saves a screenshot (the one in docs/ comes from the same script).
extension LoadTests {
    @Suite struct DashboardBrowser {
        private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path

        @Test func theDashboardShowsABreakerOpeningAndAHealthLaneTurningRedLive() async throws {
            let directory = TemporaryDirectory(prefix: "dashboard-browser")
            defer { directory.remove() }
            let screenshot = directory.path + "/dashboard.png"
            let run = try await ChildProcess.runDetached([
                "python3", Self.root + "/tools/dashboards/browser_check.py", "--binary", ChildProcess.hardeningExecutable,
                "--screenshot", screenshot, "--timeout", "60",
            ])
            let output = String(decoding: run.stdout, as: UTF8.self)
            #expect(run.status == 0, "\(output)\n\(run.stderr)")
            let seen = try JSONDocument.parse(Array((output.split(separator: "\n").last ?? "").utf8))
            for change in ["the stream connected", "vector-store healthy", "vector-store unhealthy", "a red health lane", "an alert fired",
                           "the webhook's breaker open", "the event count rising"] {
                #expect(seen[change] != nil, "\(change) was not seen: \(output)")
            }
            #expect(seen["console_errors"] == .array([]) && seen["agent_exit"] == .int(0), "\(output)")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.count > 20_000 && png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG of the page")
        }
    }
}
