import AsyncHTTPClient
import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningOTel
import HardeningTestKit
import HardeningTestSupport
import Hummingbird
import Instrumentation
import Logging
import Metrics
import ServiceLifecycle
import Testing
import UnixSignals

/// Every Swift snippet of README.md and of the DocC catalog is compiled: each is copied below,
/// between `// snippet` and `// end snippet`, inside a function that gives it the application's
/// own names (a Notion client, a vector index, …), and ``everySnippetOfTheDocumentationIsCompiledHere()``
/// fails when a snippet of the documents has no identical copy here. The `Package.swift` snippets
/// are evaluated by `swift package dump-package`.
@Suite struct DocumentationSnippetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let documents = ["README.md", "Sources/Hardening/Hardening.docc/Hardening.md", "Sources/Hardening/Hardening.docc/EventSchema.md",
                            "Sources/Hardening/Hardening.docc/Invariants.md", "docs/design.md", "docs/agent-config.md",
                            "tools/agents/README.md"]

    /// The ```swift blocks of `text`, each as its lines.
    static func swiftBlocks(in text: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed == "```swift" {
                current = []
            } else if current != nil, trimmed == "```" {
                blocks.append(current!)
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// Lines compared: trimmed, without blank lines and imports (the file's imports stand for them).
    static func normalized(_ lines: [String]) -> [String] {
        lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("import ") }
    }

    /// Whether a block is a piece of a `Package.swift`.
    static func isManifest(_ lines: [String]) -> Bool {
        let first = normalized(lines).first { !$0.hasPrefix("//") } ?? ""
        return first.hasPrefix("dependencies:") || first.hasPrefix(".package(")
    }

    @Test func everySnippetOfTheDocumentationIsCompiledHere() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        var copies: [[String]] = []
        var current: [String]?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "// snippet" {
                current = []
            } else if trimmed == "// end snippet", let copy = current {
                copies.append(Self.normalized(copy))
                current = nil
            } else {
                current?.append(line)
            }
        }
        var compiled = 0
        for document in Self.documents {
            let text = try String(contentsOfFile: Self.root + "/" + document, encoding: .utf8)
            for block in Self.swiftBlocks(in: text) where !Self.isManifest(block) {
                let lines = Self.normalized(block)
                let copied = copies.contains(lines)
                #expect(copied, "\(document): the snippet starting \"\(lines.first ?? "")\" has no identical copy in DocumentationSnippetTests")
                compiled += 1
            }
        }
        #expect(compiled >= 13, "the documents' snippets were found: \(compiled)")
    }

    @Test func everyPackageSnippetIsAValidManifest() async throws {
        let text = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let manifests = Self.swiftBlocks(in: text).filter(Self.isManifest)
        #expect(manifests.count >= 2)
        for block in manifests {
            let body = block.joined(separator: "\n")
            let arguments = body.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(".package(")
                ? "dependencies: [\n\(body)\n],\ntargets: [.executableTarget(name: \"app\", dependencies: [.product(name: \"Hardening\", package: \"swift-hardening\")])]"
                : body
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            try directory.write("Package.swift", """
                // swift-tools-version:6.2
                import PackageDescription

                let package = Package(
                    name: "readme-snippet",
                    platforms: [.macOS(.v15)],
                \(arguments)
                )
                """)
            let dumped = try await ChildProcess.runDetached(["sh", "-c", "cd '\(directory.path)' && swift package dump-package"])
            #expect(dumped.status == 0, "\(dumped.stderr)\n\(body)")
            let manifest = (try? JSONSerialization.jsonObject(with: dumped.stdout)) as? [String: Any]
            let dependencies = manifest?["dependencies"] as? [[String: Any]] ?? []
            #expect(!dependencies.isEmpty, "\(body)")
            // Every product a target names comes from a package the snippet declares.
            let declared = Set(body.matches(of: /\.package\(url: "[^"]*\/([^"\/]+)"/).map { String($0.1) })
            for used in body.matches(of: /package: "([^"]+)"/) where !declared.contains(String(used.1)) {
                Issue.record("\(used.1) is used but not declared:\n\(body)")
            }
        }
    }
}

// MARK: - The application's own names, as the snippets use them

struct HTTPError: Error {}
struct NotFound: Error {}
struct Item: Sendable {}
struct Page: Sendable {}
struct NotionClient: Sendable { func fetchPage(_ id: String) async throws -> Page { Page() } }
struct ZoteroClient: Sendable { func items() async throws -> [Item] { [] } }
struct AnswerCache: Sendable { var lastAnswer = "" }
struct RAGPipeline: Sendable { func answer(_ question: String) async throws -> String { question } }
struct VectorIndex: Sendable { func query(_ vector: [Double]) async throws -> [String] { [] } }
struct OpenAIClient: Sendable {
    func embed(_ text: String) async throws -> [Double] { [] }
    func complete(_ prompt: String) async throws -> String { prompt }
}
struct IncomingRequest { var headers: [String: String] = [:] }

// MARK: - README.md, in order (compiled, never run)

enum ReadmeSnippets {
    static func usingTheLibrary() async throws {
        // snippet
        let files = RotatingFileSink(configuration: .init(
            directory: "/var/log/rag",          // events-<UTC time>-<nnnn>.jsonl, events.jsonl links the active one
            maxFileBytes: 64 << 20,             // rotate by size…
            maxFileAge: .seconds(3600),         // …and by age
            minRotationInterval: .seconds(5),   // never faster than tailers poll
            compression: .init(level: 6, delay: .seconds(60)),   // late, atomic gzip of closed segments
            retention: .init(maxFiles: 50, maxTotalBytes: 1 << 30, maxAge: .seconds(7 * 86_400))
        ))
        let bus = EventBus(configuration: .init(service: "amprenta-rag"), sinks: [StdoutSink(format: .automatic(colors: true)), files])
        let logger = Logger(label: "amprenta-rag")   // swift-log, for the ServiceGroup's own messages

        // Anywhere, from any thread or task: synchronous, never blocks on I/O, never throws.
        bus.emit(TimingRecorded(operation: "pinecone.query", durationMs: 42.1, outcome: "success"))
        bus.emit(.warning, "custom.thing_happened", message: "something worth knowing", attrs: ["count": 3])

        // In a ServiceGroup the bus flushes everything on SIGTERM/SIGINT before run() returns.
        let group = ServiceGroup(configuration: .init(services: [.init(service: bus)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        // end snippet
    }

    static func retry(bus: EventBus, notion: NotionClient, id: String) async throws {
        // snippet
        let policy = RetryPolicy.retrying([HTTPError.self], maxAttempts: 3, initialDelay: .seconds(1),
                                          maxDelay: .seconds(60), multiplier: 2)
        let page = try await retryWithBackoff("notion.fetch_page", policy: policy, bus: bus) {
            try await notion.fetchPage(id)
        }
        // end snippet
        _ = page
    }

    static func breaker(bus: EventBus, client: NotionClient, id: String) async throws {
        // snippet
        let notion = CircuitBreaker(name: "notion", failureThreshold: 5, recoveryTimeout: .seconds(60), bus: bus)
        let page = try await notion.call { try await client.fetchPage(id) }   // CircuitOpenError when open
        // end snippet
        _ = page
    }

    static func fallbackTimingErrors(bus: EventBus, zotero: ZoteroClient, cache: AnswerCache, rag: RAGPipeline, question: String,
                                     index: VectorIndex, vector: [Double], error: any Error, id: String) async throws {
        // snippet
        // graceful_degradation(fallback_value=[])
        let items = try await gracefulDegradation("zotero.items", fallback: [Item](), bus: bus) { try await zotero.items() }

        // A fallback chosen by the kind of error; cancellation is never swallowed.
        let answer = try await Fallback<String>()
            .when(TimeoutError.self, name: "cached") { _ in cache.lastAnswer }
            .when(NotFound.self, name: "empty") { _ in "" }
            .run("rag.answer", bus: bus) { try await rag.answer(question) }

        // @timed(operation_name="pinecone.query", log_threshold=1.0) and `with timer("batch"):`
        let timing = Timing(bus: bus, defaultSlowThreshold: .seconds(1))
        let matches = try await timing.timed("pinecone.query") { try await index.query(vector) }
        let timer = timing.start("batch.upsert"); /* … */ timer.stop()

        // get_error_tracker().record_error(operation, error, context); get_error_summary()['total_errors']
        let errors = ErrorTracker(bus: bus, recentLimit: 100)
        errors.record(operation: "notion.fetch", error: error, context: ["page_id": .string(id)])
        print(errors.summary.totalErrors, errors.summary.byOperation)
        // end snippet
        _ = (items, answer, matches)
    }

    static func limits(bus: EventBus, openai: OpenAIClient, text: String, index: VectorIndex) async throws {
        // snippet
        // A limit per attempt or per call; the body is cancelled, and TimeoutError is thrown (the
        // caller's own cancellation stays a CancellationError and is never reported as a timeout).
        let vector = try await Timeout(bus: bus).run("openai.embed", timeout: .seconds(2)) { try await openai.embed(text) }

        // At most 8 calls at once, 16 waiting at most 1 s each; the rest get BulkheadRejectedError.
        let pinecone = Bulkhead(name: "pinecone", maxConcurrent: 8, maxQueue: 16, maxWait: .seconds(1), bus: bus)
        let matches = try await pinecone.run { try await index.query(vector) }

        // 50 calls/s with bursts of 10; a caller may wait up to 200 ms for a permit, else RateLimitedError
        // (which says when a permit is free, and Retry honours it).
        let openaiRate = RateLimiter(name: "openai", ratePerSecond: 50, burst: 10, defaultMaxWait: .milliseconds(200), bus: bus)
        try await openaiRate.acquire()
        // end snippet
        _ = matches
    }

    static func composing(bus: EventBus, pinecone: Bulkhead<ContinuousClock>, sharedBudget: RetryBudget, openaiRate: RateLimiter<ContinuousClock>, breaker: CircuitBreaker<ContinuousClock>,
                          rag: RAGPipeline, question: String) async throws {
        // snippet
        let pipeline = ResiliencePipeline(bus: bus)
            .bulkhead(pinecone)
            .totalTimeout(.seconds(10))
            .retry(RetryPolicy(maxAttempts: 4), budget: sharedBudget)
            .rateLimiter(openaiRate)
            .breaker(breaker)
            .attemptTimeout(.seconds(2))
        let answer = try await pipeline.run("rag.answer", fallback: .value("Sorry, try again later.")) {
            try await rag.answer(question)
        }
        // end snippet
        _ = answer
    }

    static func liveSummaries(files: RotatingFileSink) async throws {
        // snippet
        let live = SummarySink()
        let bus = EventBus(configuration: .init(service: "rag"), sinks: [live, files, StdoutSink()])
        // … the service runs, its calls emit events …
        let summary = await live.summary(after: bus)          // includes every call that returned before
        let query = summary.operations["pinecone.query"]!     // get_performance_metrics().get_summary()
        print(query.count, query.latency.meanMilliseconds, query.latency.minMilliseconds,
              query.latency.maxMilliseconds, query.latency.percentileMilliseconds(99))
        print(summary.errors.total)                           // get_error_summary()['total_errors']
        print(summary.jsonText)                               // everything, with sorted keys
        // end snippet
    }

    static func productionVolume(files: RotatingFileSink) async throws {
        // snippet
        var volume = EventVolume()                              // the production detail, 10 s windows
        volume.kindLevels[.retrySucceeded] = .level(.notice)    // every retry.succeeded is a notice
        volume.kindLevels[.metricCounted] = .off                // no line per swift-metrics increment
        let bus = EventBus(configuration: .init(service: "rag", volume: volume),
                           sinks: [StdoutSink(minimumLevel: .info), files])   // files: every level
        // end snippet
        await bus.shutdown()
    }

    static func healthChecks(bus: EventBus, host: String, pineconeKey: String, notionBreaker: CircuitBreaker<ContinuousClock>,
                             fileSink: RotatingFileSink) async throws {
        // snippet
        let client = HTTPHealthCheck.probingClient()   // an AsyncHTTPClient that reports a refused connection at once
        let prober = HealthProber(checks: [
            HTTPHealthCheck(name: "pinecone", url: "https://\(host)/describe_index_stats", method: "POST",
                            headers: [("Api-Key", pineconeKey)], expectedStatuses: [200],
                            observe: .init(path: "totalVectorCount", name: "vectors"), client: client),
            TCPHealthCheck(name: "postgres", host: "127.0.0.1", port: 5432, timeout: .seconds(2)),
            DiskSpaceHealthCheck(path: "./hardening-logs", minimumFreeBytes: 512 << 20, warningFreeBytes: 2 << 30),
            BreakerHealthCheck(breaker: notionBreaker),        // open or half-open: degraded
            SinkHealthCheck(bus: bus, fileSink: fileSink),     // the event pipeline itself
        ], timeout: .seconds(5), bus: bus)
        let probes = await prober.probeAll()                  // concurrent, each within the limit; health.probed events
        let overall = HealthProber.overall(probes)            // healthy, degraded or unhealthy
        // end snippet
        _ = overall
        try await client.shutdown()
    }

    static func embeddedEndpoints(bus: EventBus, breaker: CircuitBreaker<ContinuousClock>) {
        // snippet
        let summary = SummarySink()                                   // one of the bus's sinks
        let monitor = HealthMonitor(prober: HealthProber(checks: [BreakerHealthCheck(breaker: breaker)], bus: bus),
                                    interval: .seconds(15), bus: bus)  // a Service: run it in your ServiceGroup
        let router = Router()
        router.addHardeningEndpoints(HardeningEndpoints(monitor: monitor, summary: summary))
        // /health (200 only when healthy), /health/live, /health/ready, /metrics, /summary; HEAD; 405 otherwise
        // end snippet
    }

    static func swiftLog(bus: EventBus) {
        // snippet
        LoggingSystem.bootstrap(EventLogHandler.factory(bus: bus))   // once, in the app
        let logger = Logger(label: "rag.pipeline")
        logger.info("retrieved chunks", metadata: ["count": "12"])   // a `log.message` event
        // end snippet
    }

    static func swiftMetrics(bus: EventBus) {
        // snippet
        MetricsSystem.bootstrap(EventMetricsFactory(bus: bus))       // once, in the app
        // end snippet
    }

    #if OTLP
    static func otlp() throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // snippet
        let otlp = try OTLPExport.make(serviceName: "rag-service", endpoint: "http://127.0.0.1:4318")
        InstrumentationSystem.bootstrap(otlp.tracer)          // before the bus's configuration is made
        services.insert(.init(service: otlp.service), at: 0)  // in your ServiceGroup, before the application
        // end snippet
        _ = services
    }
    #endif

    static func tracing(request: IncomingRequest, pipeline: ResiliencePipeline<ContinuousClock>, rag: RAGPipeline, question: String) async throws {
        // snippet
        InstrumentationSystem.bootstrap(W3CTraceContextPropagation())   // traceparent in and out of ServiceContext
        var context = ServiceContext.topLevel
        context.traceContext = TraceContext(traceparent: request.headers["traceparent"] ?? "") ?? .random()
        let answer = try await ServiceContext.withValue(context) {
            try await pipeline.run("rag.answer") { try await rag.answer(question) }   // every event of the call carries the ids
        }
        // end snippet
        _ = answer
    }
}

// MARK: - The DocC catalog

enum CatalogSnippets {
    static func overview(openAI: OpenAIClient, prompt: String) async throws {
        // snippet
        let bus = EventBus(configuration: .init(service: "rag-service"), sinks: [StdoutSink(format: .json)])
        let pipeline = ResiliencePipeline(bus: bus)
            .retry(RetryPolicy(maxAttempts: 3))
            .breaker(CircuitBreaker(name: "openai", failureThreshold: 5, recoveryTimeout: .seconds(30), bus: bus))
            .attemptTimeout(.seconds(10))
        let answer = try await pipeline.run("llm.complete", fallback: .value("cached answer")) {
            try await openAI.complete(prompt)
        }
        // end snippet
        _ = answer
    }
}
