import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Hummingbird
import NIOCore
import Testing

/// The command-line contract of `agent`, `validate-config --config/--offline` and
/// `health-check --config`, as child processes.
@Suite struct AgentCommandTests {
    static let secret = "sk-command-test-secret-abcdefghijkl"

    static func hardening(_ arguments: [String], environment: [String: String] = [:]) async throws -> ChildProcess.Output {
        try await ChildProcess.runDetached([ChildProcess.hardeningExecutable] + arguments, environment: environment)
    }

    /// For commands that call this process's test server: the wait must not hold a pool thread.
    static func hardeningDetached(_ arguments: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.runDetached([ChildProcess.hardeningExecutable] + arguments)
    }

    @Test func aBadConfigurationStopsTheAgentBeforeAnythingStarts() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("agent.yaml", "server:\n  port: http\nevents:\n  directory: \(directory.path)/logs\nhealth:\n  checks:\n    - {name: a, type: tcp}\n")
        let result = try await Self.hardening(["agent", "--config", directory.path + "/agent.yaml"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("agent.yaml:2: server.port: expected a whole number, got 'http'"), "\(result.stderr)")
        #expect(result.stderr.contains("agent.yaml:7: health.checks[0].port: a tcp check needs a port"), "\(result.stderr)")
        #expect(!result.stderr.contains("listening"))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/logs"), "the agent started half-configured")
        let missing = try await Self.hardening(["agent", "--config", directory.path + "/nothing.yaml"])
        #expect(missing.status == 1 && missing.stderr.contains("nothing.yaml: cannot read"), "\(missing.stderr)")
    }

    @Test func failingConfigurationRulesStopTheAgentWithoutShowingTheSecret() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            server: {port: 0}
            events: {stdout: off}
            config:
              rules:
                - {key: SERVICE_KEY, format: secret, prefix: [sk-proj-]}
            """)
        let result = try await Self.hardening(["agent", "--config", directory.path + "/agent.yaml"], environment: ["SERVICE_KEY": Self.secret])
        #expect(result.status == 1)
        #expect(result.stderr.contains("SERVICE_KEY (environment): expected a secret starting with 'sk-proj-'"), "\(result.stderr)")
        #expect(!result.stderr.contains(Self.secret) && result.stdout.isEmpty)
    }

    @Test func validateConfigRunsConnectivityChecksUnlessOffline() async throws {
        let router = Router()
        router.get("/v1/models") { request, _ -> Response in
            request.headers[.authorization] == "Bearer \(Self.secret)" ? Response(status: .ok) : Response(status: .unauthorized)
        }
        try await TestServer.with(router) { port in
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            try directory.write(".env", "SERVICE_KEY=\(Self.secret)\n")
            try directory.write("agent.yaml", """
                health:
                  checks:
                    - name: llm
                      type: http
                      timeout: 30s
                      url: http://127.0.0.1:\(port)/v1/models
                      headers: {Authorization: "Bearer ${SERVICE_KEY}"}
                    - {name: closed, type: tcp, host: 127.0.0.1, port: 1}
                config:
                  env_file: .env
                  rules:
                    - {key: SERVICE_KEY, format: secret, prefix: [sk-]}
                  connectivity: [llm]
                """)
            let config = directory.path + "/agent.yaml"
            // The server lives in this busy test process: generous timeouts.
            let online = try await Self.hardeningDetached(["validate-config", "--config", config, "--timeout", "30"])
            #expect(online.status == 0, "\(online.stderr)\(String(decoding: online.stdout, as: UTF8.self))")
            let text = String(decoding: online.stdout, as: UTF8.self)
            #expect(text.contains("✅ connectivity:llm (network): HTTP 200"), "\(text)")
            #expect(text.contains("SERVICE_KEY (\(directory.path)/.env:1): set (35 characters, starts with sk-)"), "\(text)")
            #expect(text.contains("✅ All configuration checks passed!") && !text.contains(Self.secret))

            // The key the API refuses: a connectivity problem, exit 1; offline, the same file passes.
            try directory.write(".env", "SERVICE_KEY=sk-wrong-key-that-the-api-refuses\n")
            let refused = try await Self.hardeningDetached(["validate-config", "--config", config, "--format", "json", "--timeout", "30"])
            #expect(refused.status == 1)
            let report = try JSONDocument.parse(refused.stdout)
            #expect(report["passed"] == .bool(false))
            guard case .array(let findings)? = report["findings"] else { throw CancellationError() }
            let problem = findings.first { $0["key"] == "connectivity:llm" }
            #expect(problem?["ok"] == .bool(false) && problem?["detail"]?.stringValue?.contains("HTTP 401") == true, "\(report)")
            let offline = try await Self.hardeningDetached(["validate-config", "--config", config, "--offline"])
            let offlineText = String(decoding: offline.stdout, as: UTF8.self)
            #expect(offline.status == 0 && !offlineText.contains("connectivity:") && offlineText.contains("connectivity skipped (--offline)"),
                    "\(offlineText)")

            // health-check runs the file's checks: the closed port fails the verdict.
            let health = try await Self.hardeningDetached(["health-check", "--config", config, "--timeout", "10"])
            let healthText = String(decoding: health.stdout, as: UTF8.self)
            #expect(health.status == 1, "\(healthText)\(health.stderr)")
            #expect(healthText.contains("❌ llm: UNHEALTHY\n   HTTP 401") && healthText.contains("❌ closed: UNHEALTHY"), "\(healthText)")
            #expect(healthText.contains("❌ System is unhealthy"))
        }
    }

    /// The configuration's env_file may be missing, as the agent reads it: its keys are reported
    /// missing, not the file; only --env-file must name a file that exists.
    @Test func validateConfigReadsAMissingEnvFileAsEmpty() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            config:
              env_file: missing.env
              rules:
                - {key: SERVICE_KEY, format: secret}
            """)
        let config = directory.path + "/agent.yaml"
        let result = try await Self.hardeningDetached(["validate-config", "--config", config, "--offline"])
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 1, "a missing required key fails the check")
        #expect(text.contains("SERVICE_KEY") && !result.stderr.contains("cannot read"), "\(text)\(result.stderr)")
        let named = try await Self.hardeningDetached(["validate-config", "--config", config, "--offline", "--env-file", directory.path + "/nope.env"])
        #expect(named.status == 1 && named.stderr.contains("cannot read"), "\(named.stderr)")
    }

    @Test func theHelpDocumentsTheAgentContract() async throws {
        let help = try await Self.hardening(["agent", "--help"])
        let text = String(decoding: help.stdout, as: UTF8.self)
        for word in ["--config", "/health/ready", "/metrics", "/summary", "SIGTERM", "Exit codes"] {
            #expect(text.contains(word), "agent --help lacks \(word)")
        }
        let validate = await String(decoding: try Self.hardening(["validate-config", "--help"]).stdout, as: UTF8.self)
        #expect(validate.contains("--offline") && validate.contains("--config"))
    }
}
