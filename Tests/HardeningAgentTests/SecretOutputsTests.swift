import AsyncHTTPClient
import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import HTTPTypes
import HardeningTestSupport
import Hummingbird
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Secrets in the places the agent shows: a `${VAR}` in a check's URL path, a URL with a
/// password, credentials in events folded into `/summary` and `/metrics`; never in clear.
@Suite(.serialized) struct SecretOutputsTests {
    static let pathKey = "sk-path-secret-abcdefghijklmnopqrstuvwxyz0123"
    static let plainSecret = "plain-secret-value-4242"

    /// A `${VAR}` in the URL path of a failing check: `/health` with details, the events, the
    /// files, `/summary`, `/metrics` and `health-check` (text and JSON) all show it redacted.
    @Test func aSecretInACheckURLPathIsRedactedEverywhere() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let router = Router()
        router.get("/v1/:key/health") { _, _ in Response(status: .internalServerError) }
        try await TestServer.with(router) { port in
            try directory.write("agent.yaml", """
                server: {host: 127.0.0.1, port: 0, show_details: true}
                events: {stdout: json, directory: logs}
                health:
                  interval: 100ms
                  checks:
                    - name: llm
                      type: http
                      url: http://127.0.0.1:\(port)/v1/${PATH_KEY}/health
                    - name: plain
                      type: http
                      url: http://127.0.0.1:\(port)/v1/${PLAIN}/health
                """)
            let environment = ["PATH_KEY": Self.pathKey, "PLAIN": Self.plainSecret]
            let child = try AgentProcessTests.AgentChild(config: directory.path + "/agent.yaml", directory: directory.path, environment: environment)
            let agentPort = try await child.port()
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            var bodies: [String] = []
            do {
                let health = try await eventually { try await AgentProcessTests.get(client, "http://127.0.0.1:\(agentPort)/health") } until: {
                    $0.body.contains("HTTP 500")
                }
                #expect(health.body.contains("HTTP 500") && health.body.contains("[REDACTED]"), "\(health.body)")
                bodies.append(health.body)
                bodies.append(try await AgentProcessTests.get(client, "http://127.0.0.1:\(agentPort)/summary").body)
                bodies.append(try await AgentProcessTests.get(client, "http://127.0.0.1:\(agentPort)/metrics").body)
            } catch {
                Issue.record("\(error)")
            }
            try await client.shutdown()
            #expect(try await child.terminate() == 0, "\(child.stderr)")
            let check = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "health-check", "--config", directory.path + "/agent.yaml"],
                                                           environment: environment)
            let checkJSON = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "health-check", "--config",
                                                                directory.path + "/agent.yaml", "--format", "json"], environment: environment)
            #expect(String(decoding: check.stdout, as: UTF8.self).contains("[REDACTED]"), "\(String(decoding: check.stdout, as: UTF8.self))")
            let files = try await ChildProcess.runDetached(["sh", "-c", "zcat -f '\(directory.path)'/logs/events-*"])
            let everything = bodies.joined() + child.stdout + child.stderr + String(decoding: files.stdout, as: UTF8.self)
                + String(decoding: check.stdout + checkJSON.stdout, as: UTF8.self) + check.stderr + checkJSON.stderr
            #expect(everything.contains("llm") && everything.contains("/v1/"), "the outputs were searched")
            for secret in [Self.pathKey, Self.plainSecret] {
                #expect(!everything.contains(secret), "\(secret) reached an output")
            }
        }
    }

    /// A header value with CR, LF or NUL is refused when the file is loaded, the key named and the
    /// value never shown.
    @Test func aHeaderValueWithControlCharactersIsRefusedAtLoad() throws {
        let yaml = """
            health:
              checks:
                - name: llm
                  type: http
                  url: http://127.0.0.1:1/x
                  headers: {Authorization: "Bearer ${TOKEN}"}
            """
        let secret = "sk-header-secret\r\nX-Injected: 1\u{0}abcdefghijkl"
        let error = #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: yaml, file: "agent.yaml", environment: ["TOKEN": secret])
        }
        let problem = error?.problems.first
        #expect(problem?.key == "health.checks[0].headers.Authorization", "\(String(describing: error))")
        #expect(problem?.message.contains("control characters") == true)
        #expect(!"\(String(describing: error))".contains("sk-header-secret"))
    }

    /// Credentials inside events: the live summary (what `/summary` serves) and the Prometheus
    /// exposition (`/metrics`) carry none, while the events' operations are there.
    @Test func theLiveSummaryAndTheMetricsCarryNoCredential() async throws {
        let summary = SummarySink()
        let bus = EventBus(configuration: .init(service: "secrets", volume: .full), sinks: [summary])
        let cases = CredentialSamples.cases
        for sample in cases {
            bus.emit(ErrorRecorded(operation: "op.\(sample.marker)", errorType: "HTTPError", error: sample.text,
                                   context: ["detail": .string(sample.text)]))
            bus.emit(HealthProbed(check: "check.\(sample.marker)", status: "unhealthy", latencyMs: 1, detail: sample.text))
        }
        await bus.shutdown()
        let json = summary.summary.jsonText
        let exposition = summary.summary.prometheusExposition
        #expect(cases.allSatisfy { json.contains("op.\($0.marker)\"") })
        #expect(exposition.contains("op.case-1\""))
        for sample in cases {
            for part in sample.forbiddenParts {
                #expect(!json.contains(part), "/summary: \(sample.name): \(part)")
                #expect(!exposition.contains(part), "/metrics: \(sample.name): \(part)")
            }
        }
    }

    /// validate-config shows a URL rule's value with its password and token redacted.
    @Test func validateConfigNeverShowsACredentialInAValue() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            config:
              rules:
                - {key: SERVICE_URL, format: url}
                - {key: NOTE, format: text}
            """)
        let environment = ["SERVICE_URL": "https://admin:HUNTER2PW@db.example.com/x?token=sk-abcdefghijklmnopqrstuvwxyz0123",
                           "NOTE": "use DD_API_KEY=0123456789abcdef0123456789abcdef"]
        for format in ["text", "json"] {
            let result = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "validate-config", "--config",
                                                             directory.path + "/agent.yaml", "--offline", "--format", format],
                                                            environment: environment)
            let text = String(decoding: result.stdout, as: UTF8.self) + result.stderr
            #expect(text.contains("SERVICE_URL") && text.contains("db.example.com"), "\(text)")
            for secret in ["HUNTER2PW", "sk-abcdefghijklmnopqrstuvwxyz0123", "0123456789abcdef0123456789abcdef"] {
                #expect(!text.contains(secret), "\(format): \(secret) in \(text)")
            }
        }
    }
}
