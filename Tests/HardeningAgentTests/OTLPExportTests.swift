import Foundation
import Hardening
import HardeningLog
import HardeningOTel
import HardeningTestKit
import HardeningTestSupport
import Logging
import Metrics
#if OTLP
import OTel
#endif
import ServiceLifecycle
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The demo's traces through a real OTLP/HTTP receiver (`tools/otlp/otlp_receiver.py`, which
/// decodes the protobuf with opentelemetry-proto): the span tree, its attributes and events,
/// failed attempts, the events' ids against the exported spans, and a receiver that refuses
/// every export or is not there at all.
extension LoadTests {
    @Suite(.serialized) struct OTLPExport {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        typealias Child = AgentProcessTests.AgentChild

        /// One exported span, as the receiver wrote it.
        struct ExportedSpan: Decodable {
            struct Status: Decodable { var code: Int; var message: String }
            struct SpanEvent: Decodable { var name: String; var attributes: [String: JSONValue] }
            var trace_id: String
            var span_id: String
            var parent_span_id: String?
            var name: String
            var kind: Int
            var status: Status
            var attributes: [String: JSONValue]
            var events: [SpanEvent]
            var resource: [String: JSONValue]
        }

        /// A JSON value of an attribute.
        enum JSONValue: Decodable, Equatable {
            case string(String), number(Double), bool(Bool), other
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let value = try? container.decode(Bool.self) { self = .bool(value) }
                else if let value = try? container.decode(Double.self) { self = .number(value) }
                else if let value = try? container.decode(String.self) { self = .string(value) }
                else { self = .other }
            }
            var string: String? { if case .string(let value) = self { value } else { nil } }
            var number: Double? { if case .number(let value) = self { value } else { nil } }
        }

        static func receiver(_ directory: String, _ extra: [String] = []) throws -> Child {
            try Child(executable: "/usr/bin/env", arguments: [
                "python3", root + "/tools/otlp/otlp_receiver.py", "--port", "0", "--spans", directory + "/spans.jsonl",
                "--logs", directory + "/logs.jsonl", "--counts", directory + "/counts.json",
            ] + extra, directory: directory, environment: [:])
        }

        /// `hardening demo --otlp endpoint` (`endpoint` nil: no flag), with `environment` added.
        static func demo(_ directory: String, endpoint: String?, seconds: Int = 4,
                         environment: [String: String] = [:]) async throws -> ChildProcess.Output {
            try await ChildProcess.runDetached([
                ChildProcess.hardeningExecutable, "demo", "--duration", "\(seconds)", "--log-dir", directory + "/logs", "--stdout", "off",
            ] + (endpoint.map { ["--otlp", $0] } ?? []), environment: ProcessInfo.processInfo.environment.merging([
                "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BLRP_SCHEDULE_DELAY": "200", "OTEL_BLRP_MAX_QUEUE_SIZE": "65536",
            ].merging(environment) { $1 }) { $1 })
        }

        /// Without `--otlp`: `OTEL_EXPORTER_OTLP_ENDPOINT` alone exports, and `OTEL_SDK_DISABLED=true`
        /// turns even `--otlp` off.
        @Test func theStandardVariablesTurnExportOnAndOff() async throws {
            let directory = TemporaryDirectory(prefix: "otlp-env")
            defer { directory.remove() }
            let receiver = try Self.receiver(directory.path)
            let port = try await receiver.port()
            let endpoint = "http://127.0.0.1:\(port)"
            let disabled = try await Self.demo(directory.path, endpoint: endpoint, seconds: 1, environment: ["OTEL_SDK_DISABLED": "true"])
            #expect(disabled.status == 0 && disabled.stderr.contains("OTEL_SDK_DISABLED=true: no OTLP export"), "\(disabled.stderr)")
            let spansPath = directory.path + "/spans.jsonl"
            #expect(((try? String(contentsOfFile: spansPath, encoding: .utf8)) ?? "").isEmpty, "nothing exported while disabled")
            let byVariable = try await Self.demo(directory.path, endpoint: nil, seconds: 1, environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": endpoint])
            #expect(byVariable.status == 0, "\(byVariable.stderr)")
            #expect(try await receiver.terminate() == 0)
            let spans = try String(contentsOfFile: spansPath, encoding: .utf8)
            #expect(spans.contains("\"name\": \"question\"") && spans.contains("\"service.name\": \"rag-demo\""))
        }

        static func events(in directory: String) throws -> [Event] {
            let reader = LogReader()
            var events: [Event] = []
            for file in reader.logFiles(in: directory) {
                reader.read(file, onEvent: { events.append($0) }, onIssue: { _ in })
            }
            return events
        }

        /// A loopback port where nothing listens (bound, then closed).
        static func unusedPort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            try #require(bound)
            return Int(UInt16(bigEndian: address.sin_port))
        }

        @Test func theDemosSpansReachARealReceiverAsOneTreePerQuestionAndTheEventsCarryTheirIds() async throws {
            let directory = TemporaryDirectory(prefix: "otlp")
            defer { directory.remove() }
            let receiver = try Self.receiver(directory.path)
            let port = try await receiver.port()
            let result = try await Self.demo(directory.path, endpoint: "http://127.0.0.1:\(port)")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await receiver.terminate() == 0, "\(receiver.stderr)")
            let counts = try String(contentsOfFile: directory.path + "/counts.json", encoding: .utf8)
            #expect(counts.contains("\"bad_requests\": 0"), "every request decoded: \(counts)")
            // The demo's keys are secrets: no span and no record carries them.
            let exported = try String(contentsOfFile: directory.path + "/spans.jsonl", encoding: .utf8)
                + String(contentsOfFile: directory.path + "/logs.jsonl", encoding: .utf8)
            #expect(!exported.contains("sk-demo-0000") && !exported.contains("pcsk_demo_"))

            let lines = try String(contentsOfFile: directory.path + "/spans.jsonl", encoding: .utf8).split(separator: "\n")
            let spans: [ExportedSpan] = try lines.map { line in try JSONDecoder().decode(ExportedSpan.self, from: Data(line.utf8)) }
            #expect(spans.count > 500, "\(spans.count) spans")
            var byID: [String: ExportedSpan] = [:]
            for span in spans { byID[span.span_id] = span }
            #expect(byID.count == spans.count, "span ids are unique")
            var children: [String: [ExportedSpan]] = [:]
            for span in spans { if let parent = span.parent_span_id { children[parent, default: []].append(span) } }
            func child(_ span: ExportedSpan, named name: String) -> [ExportedSpan] { (children[span.span_id] ?? []).filter { $0.name == name } }
            #expect(spans.allSatisfy { $0.resource["service.name"]?.string == "rag-demo" })

            // question (server, a root) → rag.answer → llm.complete → pipeline → retry → attempts → breaker.
            let questions = spans.filter { $0.name == "question" }
            #expect(questions.count > 20 && questions.allSatisfy { $0.parent_span_id == nil && $0.kind == 2 })
            #expect(Set(questions.map(\.trace_id)).count == questions.count, "a trace per question")
            var fullChains = 0
            for question in questions {
                for answer in child(question, named: "rag.answer") {
                    for timed in child(answer, named: "llm.complete") {
                        for pipeline in child(timed, named: "pipeline llm.complete") {
                            for retry in child(pipeline, named: "retry llm.complete") {
                                let attempts = child(retry, named: "attempt llm.complete")
                                let numbers = attempts.compactMap { $0.attributes["hardening.retry.attempt"]?.number }
                                #expect(numbers.sorted() == Array(1...attempts.count).map(Double.init), "attempts numbered 1…n")
                                #expect(retry.attributes["hardening.retry.max_attempts"]?.number == 3)
                                if attempts.allSatisfy({ !child($0, named: "breaker llm").isEmpty }) { fullChains += 1 }
                                #expect(attempts.allSatisfy { $0.trace_id == question.trace_id })
                            }
                        }
                    }
                }
            }
            #expect(fullChains > 20, "\(fullChains) full chains")

            // Failed attempts: status error, their error type and the exception; the wait before a
            // retried attempt; the retry's decisions as its span events.
            let attempts = spans.filter { $0.name.hasPrefix("attempt ") }
            let failed = attempts.filter { $0.status.code == 2 }
            #expect(!failed.isEmpty)
            for span in failed {
                #expect(span.attributes["error.type"]?.string?.isEmpty == false && span.events.contains { $0.name == "exception" })
            }
            #expect(attempts.filter { ($0.attributes["hardening.retry.attempt"]?.number ?? 0) > 1 }
                .allSatisfy { ($0.attributes["hardening.retry.delay_ms"]?.number ?? -1) >= 0 })
            #expect(attempts.contains { ($0.attributes["hardening.retry.delay_ms"]?.number ?? 0) > 0 })
            let retries = spans.filter { $0.name.hasPrefix("retry ") }
            #expect(retries.contains { $0.events.contains { $0.name == "retry.attempt_failed" } })
            // The breaker's span events: the outage opens it (a state change) and it rejects calls.
            let breakers = spans.filter { $0.name == "breaker llm" }
            let rejected = breakers.filter { $0.events.contains { $0.name == "breaker.rejected" } }
            #expect(!rejected.isEmpty)
            for span in rejected {
                let state = span.attributes["hardening.breaker.state"]?.string
                #expect(span.status.code == 2 && (state == "open" || state == "half_open"), "\(span.attributes)")
            }
            let opened = breakers.flatMap(\.events).filter { $0.name == "breaker.state_changed" && $0.attributes["to"]?.string == "open" }
            #expect(!opened.isEmpty && opened.allSatisfy { $0.attributes["breaker"]?.string == "llm" })
            #expect(spans.contains { $0.name.hasPrefix("pipeline ") && $0.events.contains { $0.name == "fallback.used" } })
            // Health probes: client spans, one per check per round; unhealthy ones failed.
            let probes = spans.filter { $0.name.hasPrefix("health ") }
            #expect(probes.count >= 12 && probes.allSatisfy { $0.kind == 3 && $0.attributes["hardening.health.status"] != nil })

            // Every event written inside a span carries that span's ids, as exported.
            let events = try Self.events(in: directory.path + "/logs")
            let traced = events.filter { $0.spanID != nil }
            #expect(traced.count > 40)
            for event in traced {
                let span = byID[event.spanID!]
                #expect(span != nil && span?.trace_id == event.traceID, "\(event.kind) \(event.spanID!) not among the exported spans")
                if span == nil { break }
            }
            for event in traced where event.kind == EventKind.timingRecorded {
                #expect(byID[event.spanID!]?.name == event.attrs["operation"]?.stringValue, "a timing carries its own span")
            }
            for event in traced where event.kind == EventKind.healthProbed {
                #expect(byID[event.spanID!]?.name == "health " + (event.attrs["check"]?.stringValue ?? ""))
            }

            // The events as OTLP log records: one per event of the run, each with its event's ids.
            struct Record: Decodable { var trace_id: String?; var span_id: String?; var severity_text: String; var attributes: [String: JSONValue] }
            let recordLines = try String(contentsOfFile: directory.path + "/logs.jsonl", encoding: .utf8).split(separator: "\n")
            let records = try recordLines.map { line in try JSONDecoder().decode(Record.self, from: Data(line.utf8)) }
            let run = events.filter { $0.seq > 0 }
            #expect(records.count == run.count, "\(records.count) records for \(run.count) events")
            let eventsBySeq = Dictionary(run.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
            var linked = 0
            for record in records {
                let seq = record.attributes["seq"]?.string.flatMap { UInt64($0) }
                let event = seq.flatMap { eventsBySeq[$0] }
                #expect(event != nil && record.attributes["event"]?.string == event?.kind.rawValue, "\(record)")
                #expect(record.trace_id == event?.traceID && record.span_id == event?.spanID, "\(record)")
                if record.span_id != nil { linked += 1 }
            }
            #expect(linked == traced.count)
        }

        /// A receiver that answers 500 to every export, one that answers only after 10 s (twice the
        /// export timeout), and an address where nothing listens: the demo runs and ends as usual,
        /// each failure is a `log.message` from swift-otel in its files and the count is on stderr.
        @Test(arguments: ["refuses", "slow", "absent"])
        func exportFailuresNeverFailTheApplicationAndAreCountedAndTold(_ receiverState: String) async throws {
            let directory = TemporaryDirectory(prefix: "otlp-fail")
            defer { directory.remove() }
            var receiver: Child?
            let port: Int
            if receiverState != "absent" {
                receiver = try Self.receiver(directory.path, receiverState == "slow" ? ["--delay", "10"] : ["--fail-status", "500"])
                port = try await receiver!.port()
            } else {
                port = try Self.unusedPort()
            }
            let start = ContinuousClock.now
            let result = try await Self.demo(directory.path, endpoint: "http://127.0.0.1:\(port)", seconds: 3)
            let took = start.duration(to: .now)
            if let receiver { #expect(try await receiver.terminate() == 0) }
            #expect(result.status == 0, "\(result.stderr)")
            // Three seconds of work, then at most the export timeout (5 s) for the exporters to stop.
            #expect(took < .seconds(13), "the demo took \(took)")
            #expect(result.stderr.contains("OTLP export failed"), "\(result.stderr)")
            let failures = try Self.events(in: directory.path + "/logs").filter {
                $0.kind == .logMessage && $0.attrs["logger"]?.stringValue == "swift-otel"
            }
            #expect(!failures.isEmpty)
            #expect(failures.allSatisfy { $0.level == .warning })
            // The demo exports traces, and its events as log records: both fail, each told as such.
            let signals = Set(failures.compactMap { $0.attrs["metadata"]?.objectValue?["signal"]?.stringValue })
            #expect(signals == ["traces", "logs"], "\(signals)")
            #expect(failures.contains { $0.attrs["metadata"]?.objectValue?["otel_failure"]?.stringValue == "export_failed" })
            // The application's own story is whole.
            let report = try Replay().run(ReplayInputs([directory.path + "/logs"]))
            #expect(report.summary.missingEvents == 0 && (report.summary.operations["rag.answer"]?.count ?? 0) > 10)
        }
    

        /// `hardening agent` with `otlp.endpoint`: its health probes reach the receiver as client
        /// spans; once the receiver is gone, the failed exports are counted in `/metrics` and told
        /// as `log.message` events, and the agent goes on answering and stops cleanly.
        @Test func theAgentExportsItsProbesAndCountsFailedExportsInMetrics() async throws {
            let directory = TemporaryDirectory(prefix: "otlp-agent")
            defer { directory.remove() }
            let receiverDirectory = directory.path + "/receiver"
            try FileManager.default.createDirectory(atPath: receiverDirectory, withIntermediateDirectories: true)
            let receiver = try Self.receiver(receiverDirectory)
            let receiverPort = try await receiver.port()
            try directory.write("agent.yaml", """
                service: otlp-agent
                server: {host: 127.0.0.1, port: 0}
                events: {stdout: "json"}
                otlp: {endpoint: "http://127.0.0.1:\(receiverPort)", export_timeout: 1s}
                health:
                  interval: 100ms
                  checks:
                    - {name: collector, type: tcp, host: 127.0.0.1, port: \(receiverPort)}
                    - {name: nowhere, type: tcp, host: 127.0.0.1, port: 1, critical: false}
                alerts:
                  rules:
                    - {name: down, consecutive_failures: 1, resolve_after: 2}
                  # The receiver answers 404 here: a webhook call that fails, in its span.
                  webhook: {url: "http://127.0.0.1:\(receiverPort)/hook", attempts: 1}
                """)
            let agent = try Child(config: directory.path + "/agent.yaml", directory: directory.path,
                                  environment: ["OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"])
            let port = try await agent.port()
            let spansPath = receiverDirectory + "/spans.jsonl"
            let exported = await eventually(timeout: .seconds(30)) {
                ((try? String(contentsOfFile: spansPath, encoding: .utf8)) ?? "").contains("\"name\": \"health collector\"")
            }
            #expect(exported, "the probes' spans reached the receiver")
            let posted = await eventually(timeout: .seconds(30)) {
                ((try? String(contentsOfFile: spansPath, encoding: .utf8)) ?? "").contains("\"http.request.method\": \"POST\"")
            }
            #expect(posted, "the webhook's call is a span")
            let spanLines = try String(contentsOfFile: spansPath, encoding: .utf8).split(separator: "\n")
            let webhookSpan = try #require(spanLines.first { $0.contains("\"http.request.method\": \"POST\"") })
            #expect(webhookSpan.contains("\"name\": \"POST\"") && webhookSpan.contains("\"kind\": 3") && webhookSpan.contains("/hook"))
            #expect(webhookSpan.contains("\"status\": {\"code\": 2"), "the webhook answered 404: the call failed: \(webhookSpan)")
            #expect(spanLines.contains { $0.contains("\"name\": \"retry alert.webhook\"") } && spanLines.contains { $0.contains("\"name\": \"breaker webhook\"") })
            let healthy = try await HTTPHealthCheckTests.withClient { try await AgentProcessTests.get($0, "http://127.0.0.1:\(port)/metrics").body }
            #expect(healthy.contains("hardening_otlp_export_failures_total{signal=\"traces\"} 0\n"), "\(healthy.suffix(800))")
            let firstSpan = try #require(String(contentsOfFile: spansPath, encoding: .utf8).split(separator: "\n").first)
            #expect(firstSpan.contains("\"service.name\": \"otlp-agent\"") && firstSpan.contains("\"kind\": 3"))
            #expect(firstSpan.contains("\"deployment.environment\": \"test\""), "the OTEL_* variables apply: \(firstSpan)")

            // The receiver goes away: exports fail, the agent counts them and goes on.
            #expect(try await receiver.terminate() == 0)
            let failing = try await HTTPHealthCheckTests.withClient { client in
                try await eventually(timeout: .seconds(60)) { try await AgentProcessTests.get(client, "http://127.0.0.1:\(port)/metrics").body } until: {
                    $0.range(of: #"hardening_otlp_export_failures_total\{signal="traces"\} [1-9]"#, options: .regularExpression) != nil
                }
            }
            #expect(failing.range(of: #"hardening_otlp_export_failures_total\{signal="traces"\} [1-9]"#, options: .regularExpression) != nil,
                    "\(failing.suffix(800))")
            let live = try await HTTPHealthCheckTests.withClient { try await AgentProcessTests.get($0, "http://127.0.0.1:\(port)/health/live").status }
            #expect(live == 200)
            #expect(try await agent.terminate() == 0, "\(agent.stderr)")
            let told = agent.stdout.split(separator: "\n").filter { $0.contains("\"event\":\"log.message\"") && $0.contains("\"logger\":\"swift-otel\"") }
            #expect(!told.isEmpty && told.allSatisfy { $0.contains("\"otel_failure\"") }, "\(agent.stdout.suffix(1500))")
        }
    

        #if OTLP
        /// `OTLPExport.make(signals: [.traces, .metrics])`: swift-metrics instruments made through
        /// its factory reach the receiver, and the export stops at graceful shutdown.
        @Test func metricsMadeThroughTheExportsFactoryReachTheReceiver() async throws {
            let directory = TemporaryDirectory(prefix: "otlp-metrics")
            defer { directory.remove() }
            let receiver = try Self.receiver(directory.path)
            let port = try await receiver.port()
            let export = try HardeningOTel.OTLPExport.make(serviceName: "metrics-test", endpoint: "http://127.0.0.1:\(port)",
                                                          signals: [.traces, .metrics]) { configuration in
                configuration.metrics.exportInterval = .milliseconds(200)
            }
            let factory = try #require(export.metricsFactory)
            let counter = factory.makeCounter(label: "questions_total", dimensions: [("outcome", "answered")])
            let group = ServiceGroup(configuration: .init(services: [.init(service: export.service)],
                                                          logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                counter.increment(by: 3)
                try await Task.sleep(for: .milliseconds(800))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(try await receiver.terminate() == 0)
            let counts = try String(contentsOfFile: directory.path + "/counts.json", encoding: .utf8)
            #expect(counts.range(of: #""metrics": [1-9]"#, options: .regularExpression) != nil, "\(counts)")
            #expect(export.diagnostics.counts.totalFailedExports == 0)
        }
        #endif
    }
}
