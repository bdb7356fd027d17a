import AsyncHTTPClient
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// The alert webhook against a real receiver on 127.0.0.1: retried through our retry policy on
/// 5xx, not retried on 4xx, the secret header delivered, and the body Slack-compatible.
@Suite struct AlertWebhookTests {
    static let token = "xoxb-webhook-secret-token-0123456789"

    /// A receiver answering from `script` (then 200), keeping each body it accepted.
    static func receiver(script: Locked<[Int]>, bodies: Locked<[String]>) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard request.headers[.authorization] == "Bearer \(token)" else { return Response(status: .forbidden) }
            let status = script.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            if status == 200 { bodies.withLock { $0.append(String(buffer: body)) } }
            return Response(status: HTTPResponse.Status(code: status))
        }
        return router
    }

    static func alert(on bus: EventBus, check: String) {
        bus.emit(AlertFired(rule: "down", check: check, reason: "3 failed probes in a row", consecutiveFailures: 3))
    }

    @Test func aFailingReceiverIsRetriedAndTheAlertArrivesOnce() async throws {
        let script = Locked([503, 502])
        let bodies = Locked<[String]>([])
        try await TestServer.with(Self.receiver(script: script, bodies: bodies)) { port in
            try await HTTPHealthCheckTests.withClient { client in
                let sink = InMemorySink()
                let late = DeferredSink()
                let bus = EventBus(configuration: .init(service: "svc", redactor: Redactor(knownSecrets: [Self.token]), volume: .full), sinks: [sink, late])
                let webhook = AlertWebhook(url: "http://127.0.0.1:\(port)/hook", headers: [("Authorization", "Bearer \(Self.token)")],
                                           timeout: .seconds(2), attempts: 4, initialDelay: .milliseconds(10), client: client, bus: bus)
                late.set(webhook)
                // Its posts and their 2-second timeouts on a thread of its own, as the receiver's:
                // the parallel tests' CPU-bound work holds the concurrency pool for seconds.
                let executor = ThreadTaskExecutor(name: "webhook")
                defer { executor.shutdown() }
                let running = Task(executorPreference: executor) { await webhook.run() }
                Self.alert(on: bus, check: "pinecone")
                await eventually(timeout: .seconds(20), interval: .milliseconds(10)) { webhook.statistics.sent > 0 }
                #expect(webhook.statistics.sent == 1 && webhook.statistics.failed == 0)
                webhook.close()
                await running.value
                await bus.shutdown()
                let body = try #require(bodies.withLock { $0 }.first)
                let document = try JSONDocument.parse(Array(body.utf8))
                guard case .object(let object) = document else { throw CancellationError() }
                #expect(object["event"] == "alert.fired" && object["check"] == "pinecone" && object["service"] == "svc")
                #expect(object["text"]?.stringValue?.contains("pinecone") == true)
                #expect(bodies.withLock { $0.count } == 1)
                let failedAttempts = sink.events.filter { $0.kind == .retryAttemptFailed }.count
                #expect(failedAttempts == 2)
                #expect(sink.events.contains { $0.kind == .retrySucceeded })
                for event in sink.events { #expect(!"\(event)".contains(Self.token)) }
            }
        }
    }

    @Test func aRejectingReceiverIsNotRetriedAndTheFailureIsRecorded() async throws {
        let script = Locked([400])
        let bodies = Locked<[String]>([])
        try await TestServer.with(Self.receiver(script: script, bodies: bodies)) { port in
            try await HTTPHealthCheckTests.withClient { client in
                let sink = InMemorySink()
                let late = DeferredSink()
                let bus = EventBus(configuration: .init(service: "svc", volume: .full), sinks: [sink, late])
                let webhook = AlertWebhook(url: "http://127.0.0.1:\(port)/hook?token=querysecret", headers: [("Authorization", "Bearer \(Self.token)")],
                                           attempts: 4, initialDelay: .milliseconds(10), client: client, bus: bus)
                late.set(webhook)
                // Its posts and their 2-second timeouts on a thread of its own, as the receiver's:
                // the parallel tests' CPU-bound work holds the concurrency pool for seconds.
                let executor = ThreadTaskExecutor(name: "webhook")
                defer { executor.shutdown() }
                let running = Task(executorPreference: executor) { await webhook.run() }
                Self.alert(on: bus, check: "notion")
                await eventually(timeout: .seconds(20), interval: .milliseconds(10)) { webhook.statistics.failed > 0 }
                webhook.close()
                await running.value
                await bus.shutdown()
                #expect(webhook.statistics.failed == 1 && webhook.statistics.sent == 0)
                #expect(sink.events.filter { $0.kind == .retryAttemptFailed }.isEmpty)
                let recorded = try #require(sink.events.first { $0.kind == .errorRecorded }.map { try $0.payload(as: ErrorRecorded.self) })
                #expect(recorded.operation == "alert.webhook" && recorded.error.contains("HTTP 400"), "\(recorded.error)")
                #expect(!recorded.error.contains("querysecret") && recorded.error.contains("http://127.0.0.1:\(port)/hook"))
            }
        }
    }
}
