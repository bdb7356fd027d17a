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
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `hardening agent` as a real child process against real dependencies on 127.0.0.1: every
/// endpoint answered, the Prometheus text parsed by `prometheus_client`, an outage that fails
/// `/health` and posts an alert, SIGTERM that leaves every event on disk, and the secrets given to
/// the configuration found nowhere: not in stdout, stderr, files, events or HTTP answers.
@Suite(.serialized) struct AgentProcessTests {
    static let vectorKey = "pcsk_agent_process_secret_0123456789"
    static let hookToken = "xoxb-agent-process-hook-token-98765"

    /// The started agent, killed by its pid whatever the test's outcome.
    final class AgentChild {
        let process = Process()
        let stdoutPath: String
        let stderrPath: String

        convenience init(config: String, directory: String, environment: [String: String]) throws {
            try self.init(executable: ChildProcess.hardeningExecutable, arguments: ["agent", "--config", config], directory: directory,
                          environment: environment)
        }

        /// Any program of this package that prints "listening on http://127.0.0.1:PORT" on stderr.
        init(executable: String, arguments: [String], directory: String, environment: [String: String]) throws {
            stdoutPath = directory + "/agent.stdout"
            stderrPath = directory + "/agent.stderr"
            _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

        /// The port from "listening on http://127.0.0.1:PORT".
        func port() async throws -> Int {
            for _ in 0..<1500 {
                if let range = stderr.range(of: "listening on http://127.0.0.1:") {
                    let digits = stderr[range.upperBound...].prefix { $0.isNumber }
                    if let port = Int(digits) { return port }
                }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw AgentFailed(text: "the agent did not start listening: \(stderr)")
        }

        /// SIGTERM, then waits without holding a pool thread (the agent may still be posting
        /// to this process's test server while it shuts down).
        func terminate() async throws -> Int32 {
            kill(process.processIdentifier, SIGTERM)
            await eventually(timeout: .seconds(30), interval: .milliseconds(20)) { !process.isRunning }
            return process.isRunning ? -1 : process.terminationStatus
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    struct AgentFailed: Error, CustomStringConvertible { var text: String; var description: String { text } }

    struct Answer {
        var status: Int
        var contentType: String
        var cacheControl: String
        var body: String
    }

    /// One GET; the timeout is generous because these tests check answers, not latency (the
    /// flood script measures that), and a child process may wait for a core on a busy machine.
    static func get(_ client: HTTPClient, _ url: String) async throws -> Answer {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code), contentType: response.headers.first(name: "content-type") ?? "",
                      cacheControl: response.headers.first(name: "cache-control") ?? "", body: String(buffer: body))
    }

    /// The dependency (a vector database with a stats endpoint that `down` breaks) and the alert
    /// receiver, on one real server.
    static func dependencies(down: Locked<Bool>, alerts: Locked<[String]>) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/stats") { request, _ -> Response in
            guard request.headers[HTTPField.Name("Api-Key")!] == vectorKey else { return Response(status: .unauthorized) }
            if down.withLock({ $0 }) { return Response(status: .serviceUnavailable) }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"totalVectorCount": 1234}"#)))
        }
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard request.headers[.authorization] == "Bearer \(hookToken)" else { return Response(status: .forbidden) }
            alerts.withLock { $0.append(String(buffer: body)) }
            return Response(status: .ok)
        }
        return router
    }

    static func configuration(port: Int, logs: String) -> String {
        """
        service: agent-under-test
        shutdown_timeout: 5s
        shutdown_drain: 2500ms
        server: {host: 127.0.0.1, port: 0, show_details: true}
        events: {stdout: json, directory: \(logs), file_format: gzip-stream, window: 1s}
        health:
          interval: 100ms
          timeout: 3s
          checks:
            - name: vectors
              type: http
              url: http://127.0.0.1:\(port)/stats?api_key=${VECTOR_KEY}
              headers: {Api-Key: "${VECTOR_KEY}"}
              observe: {field: totalVectorCount, as: vectors}
            - {name: vectors-port, type: tcp, host: 127.0.0.1, port: \(port)}
            - {name: disk, type: disk, path: \(logs), min_free_mib: 1}
            - {name: events, type: sinks}
            - {name: config, type: config}
            - {name: hook, type: breaker, breaker: webhook}
        alerts:
          rules:
            - {name: down, consecutive_failures: 2, resolve_after: 2}
          webhook:
            url: http://127.0.0.1:\(port)/hook
            headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
            attempts: 3
        config:
          rules:
            - {key: VECTOR_KEY, format: secret, prefix: [pcsk_]}
            - {key: HOOK_TOKEN, format: secret}
        """
    }

    /// A file where the log directory should be: the agent keeps serving but is unhealthy,
    /// says why on stderr (the path and the system's reason), and counts the failure in /metrics.
    @Test func anUnwritableLogDirectoryMakesTheAgentUnhealthyAndSaysWhy() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("blocked", "a file, not a directory\n")
        try directory.write("agent.yaml", """
            server: {host: 127.0.0.1, port: 0}
            events: {stdout: off, directory: blocked/logs}
            health:
              interval: 200ms
              checks:
                - {name: events, type: sinks}
            """)
        let child = try AgentChild(config: directory.path + "/agent.yaml", directory: directory.path, environment: [:])
        let port = try await child.port()
        try await HTTPHealthCheckTests.withClient { client in
            let health = try await eventually { try await Self.get(client, "http://127.0.0.1:\(port)/health") } until: { $0.status == 503 }
            #expect(health.status == 503, "\(health.body)")
            let metrics = try await eventually { try await Self.get(client, "http://127.0.0.1:\(port)/metrics").body } until: {
                $0.contains("hardening_sink_failures_total 1")
            }
            #expect(metrics.contains("hardening_sink_failures_total 1"), "\(metrics)")
        }
        #expect(child.stderr.contains("blocked/logs: Not a directory (errno 20)"), "\(child.stderr)")
        // At SIGTERM what the files never took is counted and said, and the exit says it failed.
        #expect(try await child.terminate() == 1, "\(child.stderr)")
        #expect(child.stderr.contains("event(s) could not be written to"), "\(child.stderr)")
    }

    /// The guide's `/health`: 200 only when healthy. A non-critical check failing (degraded)
    /// answers 503 with `overall_status` and every service's status by default, 200 with
    /// `server.degraded_status: 200`.
    @Test(arguments: [(nil, 503), (200, 200)] as [(Int?, Int)])
    func aDegradedAgentAnswersAsTheGuideUnlessConfigured(degradedStatus: Int?, expected: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Port 1 on loopback: nothing listens there, a connection is refused at once.
        let closedPort = 1
        let setting = degradedStatus.map { ", degraded_status: \($0)" } ?? ""
        try directory.write("agent.yaml", """
            server: {host: 127.0.0.1, port: 0\(setting)}
            events: {stdout: off}
            health:
              interval: 200ms
              timeout: 1s
              checks:
                - {name: disk, type: disk, path: ., min_free_mib: 1}
                - {name: cache, type: tcp, port: \(closedPort), critical: false}
            """)
        let child = try AgentChild(config: directory.path + "/agent.yaml", directory: directory.path, environment: [:])
        let port = try await child.port()
        try await HTTPHealthCheckTests.withClient { client in
            let health = try await eventually { try await Self.get(client, "http://127.0.0.1:\(port)/health") } until: {
                $0.body.contains("\"overall_status\":\"degraded\"")
            }
            #expect(health.status == expected, "\(health.body)")
            let document = try JSONDocument.parse(Array(health.body.utf8))
            #expect(document["overall_status"] == "degraded" && document["status"] == "warn", "\(health.body)")
            #expect(document["services"]?["cache"]?["status"] == "unhealthy" && document["services"]?["cache"]?["critical"] == .bool(false))
            #expect(document["services"]?["disk"]?["status"] == "healthy")
            if case .double(let latency)? = document["services"]?["disk"]?["latency_ms"] { #expect(latency >= 0) } else {
                Issue.record("no latency_ms: \(health.body)")
            }
            #expect(try await Self.get(client, "http://127.0.0.1:\(port)/health/live").status == 200)
        }
        #expect(try await child.terminate() == 0, "\(child.stderr)")
    }

    @Test func theAgentServesEveryEndpointAlertsAndStopsCleanlyOnSIGTERM() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let logs = TestOutput.directory(named: "agent-process")
        defer { logs.finish() }
        let down = Locked(false)
        let alerts = Locked<[String]>([])
        try await TestServer.with(Self.dependencies(down: down, alerts: alerts)) { dependencyPort in
            try directory.write("agent.yaml", Self.configuration(port: dependencyPort, logs: logs.path))
            let child = try AgentChild(config: directory.path + "/agent.yaml", directory: directory.path,
                                       environment: ["VECTOR_KEY": Self.vectorKey, "HOOK_TOKEN": Self.hookToken])
            let port = try await child.port()
            let base = "http://127.0.0.1:\(port)"
            var answers: [Answer] = []
            try await HTTPHealthCheckTests.withClient { client in
                // Healthy once the first round has run.
                var health = try await eventually { try await Self.get(client, base + "/health") } until: { $0.status == 200 }
                #expect(health.status == 200, "\(health.body)")
                #expect(health.contentType == "application/health+json" && health.cacheControl == "no-store")
                let document = try JSONDocument.parse(Array(health.body.utf8))
                #expect(document["status"] == "pass")
                let vectors = document["checks"]?["vectors:responseTime"]?[0]
                #expect(vectors?["observed"]?["vectors"] == .int(1234), "\(health.body)")
                #expect(vectors?["observed"]?["url"] == .string("http://127.0.0.1:\(dependencyPort)/stats"))
                for name in ["vectors-port", "disk", "events", "config", "hook"] {
                    #expect(document["checks"]?["\(name):responseTime"]?[0]?["status"] == "pass", "\(name): \(health.body)")
                }
                let live = try await Self.get(client, base + "/health/live")
                let ready = try await Self.get(client, base + "/health/ready")
                #expect(live.status == 200 && ready.status == 200 && ready.body.contains("pass"))
                // /summary is a snapshot rebuilt every server.summary_refresh (1 s by default).
                let (summary, summaryDocument) = try await eventually { () async throws -> (Answer, AttributeValue) in
                    let summary = try await Self.get(client, base + "/summary")
                    return (summary, try JSONDocument.parse(Array(summary.body.utf8)))
                } until: { (answer: (Answer, AttributeValue)) -> Bool in answer.1["health"]?["vectors"]?["last_status"] == "healthy" }
                #expect(summary.status == 200 && summary.contentType == "application/json")
                #expect(summaryDocument["health"]?["vectors"]?["last_status"] == "healthy", "\(summary.body.prefix(400))")
                let notFound = try await Self.get(client, base + "/nothing")
                #expect(notFound.status == 404)

                // An outage: /health fails (the check is critical), an alert fires and is posted.
                down.withLock { $0 = true }
                // Until the probe has seen the 503 (on a loaded machine a round may time out first).
                health = try await eventually { try await Self.get(client, base + "/health") } until: { (answer: Answer) -> Bool in
                    let alerted = !alerts.withLock { $0.isEmpty }
                    return alerted && answer.status == 503 && answer.body.contains("HTTP 503")
                }
                #expect(health.status == 503 && health.body.contains("HTTP 503"), "\(health.body)")
                #expect(try await Self.get(client, base + "/health/ready").status == 503)
                #expect(try await Self.get(client, base + "/health/live").status == 200)
                let posted = try #require(alerts.withLock { $0.first })
                #expect(posted.contains(#""check":"vectors""#) && posted.contains("alert.fired"), "\(posted)")

                // /metrics is rebuilt with /summary (every second): poll until it shows the outage and its alert.
                let metrics = try await eventually { try await Self.get(client, base + "/metrics") } until: { (answer: Answer) -> Bool in
                    answer.body.contains(#"hardening_health_up{check="vectors"} 0"#)
                        && answer.body.contains(#"hardening_alerts_fired_total{alert="down/vectors"} "#)
                }
                #expect(metrics.status == 200 && metrics.contentType.hasPrefix("text/plain; version=0.0.4"))
                let parsed = try await ChildProcess.runDetached(["python3", "-c", Self.metricsCheck], input: Data(metrics.body.utf8))
                #expect(parsed.status == 0, "\(parsed.stderr)\n\(metrics.body)")
                #expect(Int(String(decoding: parsed.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 8)
                answers = [health, live, ready, summary, metrics]
            }
            let summaryBeforeStop = answers[3].body
            // SIGTERM: readiness fails at once while the server still answers (the drain), then it stops.
            down.withLock { $0 = false }
            try await HTTPHealthCheckTests.withClient { client in
                let ready = try await eventually { try await Self.get(client, base + "/health/ready") } until: { $0.status == 200 }
                #expect(ready.status == 200, "the dependency came back but readiness did not")
                kill(child.process.processIdentifier, SIGTERM)
                // The drain lasts 2.5 s: long enough for a loaded machine to see it.
                let draining = try await eventually(timeout: .seconds(2)) { try await Self.get(client, base + "/health/ready") } until: {
                    $0.status != 200
                }
                let live = try await Self.get(client, base + "/health/live")
                #expect(draining.status == 503 && live.status == 200, "ready \(draining.status), live \(live.status) while draining")
            }
            #expect(try await child.terminate() == 0, "\(child.stderr)")
            #expect(!child.stderr.contains("error"), "\(child.stderr)")

            // Every event is on disk, with no hole in seq, and the files replay.
            let reader = LogReader()
            let read = reader.readAll(reader.logFiles(in: logs.path))
            #expect(read.issues.isEmpty, "\(read.issues)")
            let events = read.events.filter { $0.seq > 0 }
            let seqs = events.map(\.seq)
            #expect(!seqs.isEmpty && seqs == Array(1...UInt64(seqs.count)))
            #expect(events.contains { $0.kind == .alertFired } && events.contains { $0.kind == .healthChanged })
            #expect(events.contains { $0.kind == .logMessage && $0.message.contains("hardening agent starting") })
            let stdoutLines = child.stdout.split(separator: "\n")
            #expect(stdoutLines.count == events.count, "stdout has \(stdoutLines.count) lines for \(events.count) events")
            let totalBeforeStop = try JSONDocument.parse(Array(summaryBeforeStop.utf8))["events"]?["total"]
            guard case .int(let total)? = totalBeforeStop else {
                Issue.record("/summary had no events.total: \(summaryBeforeStop.prefix(300))")
                return
            }
            #expect(Int(total) < events.count, "events after /summary (the alert, the shutdown) are on disk too")

            // One catalogue: every family /metrics served is in `replay --format prometheus` of the
            // same run's files with the same type and help (the server's own families aside), and
            // replay adds no family of its own but its input issues.
            let replayed = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "replay", "--format", "prometheus", logs.path])
            #expect(replayed.status == 0, "\(replayed.stderr)")
            let liveFamilies = PrometheusFamilies(answers[4].body)
            let replayFamilies = PrometheusFamilies(String(decoding: replayed.stdout, as: UTF8.self))
            let serverOnly = Set(ServerMetricsText.all.map(\.name))
            #expect(serverOnly.isSubset(of: Set(liveFamilies.names)), "\(serverOnly)")
            #expect(liveFamilies.names.count >= 15, "\(liveFamilies.names)")
            for name in liveFamilies.names where !serverOnly.contains(name) {
                #expect(replayFamilies.families[name] == liveFamilies.families[name], "\(name): live \(String(describing: liveFamilies.families[name])), replay \(String(describing: replayFamilies.families[name]))")
            }
            // What replay adds is the catalogue's too (families whose first event came after the
            // scrape), or its input issues.
            let catalogue = Set(MetricCatalogue.all.map(\.name))
            for name in replayFamilies.names where liveFamilies.families[name] == nil {
                #expect(catalogue.contains(name) || name == "hardening_replay_issues_total", "\(name) only in replay")
            }

            // The secrets are nowhere.
            var everything = child.stdout + child.stderr + answers.map(\.body).joined()
            for file in reader.logFiles(in: logs.path) {
                let lines = try await ChildProcess.runDetached(["zcat", "-f", file])
                everything += String(decoding: lines.stdout, as: UTF8.self)
            }
            // What is searched holds the outputs (a search of nothing would find no secret either).
            #expect(everything.contains(#""event":"health.probed""#) && everything.contains("hardening_health_up"))
            #expect(everything.contains("listening on") && everything.contains("totalVectorCount") == false)
            for secret in [Self.vectorKey, Self.hookToken] {
                #expect(!everything.contains(secret), "a secret leaked")
            }
        }
    }

    /// Parses /metrics with prometheus_client and checks the series the agent must export.
    static let metricsCheck = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
        def sample(family, suffix="", **labels):
            for s in families[family].samples:
                if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
            raise AssertionError(f"no sample {family}{suffix} {labels}")
        assert families["hardening_health_probe_duration_seconds"].type == "histogram"
        assert sample("hardening_health_probe_duration_seconds", "_count", check="vectors") >= 3
        assert sample("hardening_health_up", check="vectors") == 0
        assert sample("hardening_health_up", check="disk") == 1
        assert sample("hardening_health_status", check="vectors") == 2
        assert sample("hardening_health_probes", "_total", check="vectors", status="healthy") >= 1
        assert sample("hardening_alerts_fired", "_total", alert="down/vectors") >= 1
        assert sample("hardening_events_dropped", "_total") == 0
        assert sample("hardening_events", "_total", kind="health.probed") >= 2
        assert sample("hardening_events", "_total", kind="health.window") >= 1
        print(len(families))
        """
}

/// The families of a Prometheus exposition: name, then type and help.
struct PrometheusFamilies {
    struct Family: Equatable, CustomStringConvertible {
        var type = ""
        var help = ""
        var description: String { "\(type) \"\(help)\"" }
    }

    private(set) var names: [String] = []
    private(set) var families: [String: Family] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") where line.hasPrefix("# ") {
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4 else { continue }
            let name = String(parts[2])
            if families[name] == nil { names.append(name) }
            if parts[1] == "TYPE" { families[name, default: Family()].type = String(parts[3]) }
            if parts[1] == "HELP" { families[name, default: Family()].help = String(parts[3]) }
        }
    }
}
