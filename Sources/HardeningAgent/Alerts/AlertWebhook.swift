// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import AsyncHTTPClient
import Hardening
import HardeningLog
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Tracing

/// Posts every `alert.fired` and `alert.resolved` event to a webhook (Slack-compatible: the JSON
/// has a `text` line besides the alert's fields), through our own retry and circuit breaker.
///
/// It is a sink (it sees alerts from the health monitor and from the application alike) and a
/// `Service` (the POSTs run on its own task, never on the bus's drain thread). Alerts wait in a
/// bounded queue; on graceful shutdown the queue is drained within the group's time limit.
/// A POST that fails after its retries is an `error.recorded` event (operation `alert.webhook`).
public final class AlertWebhook: EventSink, Service, Sendable {
    public let name = "webhook"
    /// The URL, as configured (never shown: see ``shownURL``).
    private let url: String
    /// The URL without user info and query, for messages.
    public let shownURL: String
    private let headers: [(name: String, value: String)]
    private let timeout: Duration
    private let client: HTTPClient
    private let retry: Retry<ContinuousClock>
    /// The breaker guarding the webhook (`webhook`), for a health check.
    public let breaker: CircuitBreaker<ContinuousClock>
    private let bus: EventBus?
    private let stream: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let counts = Locked((sent: 0, failed: 0))

    /// A webhook posting to `url` with `headers`; `attempts` per alert.
    public init(url: String, headers: [(name: String, value: String)] = [], timeout: Duration = .seconds(5), attempts: Int = 4,
                initialDelay: Duration = .milliseconds(200), queueLimit: Int = 1000, client: HTTPClient, bus: EventBus?) {
        self.url = url
        self.shownURL = DisplayURL.sanitized(url)
        self.headers = headers
        self.timeout = timeout
        self.client = client
        self.bus = bus
        self.retry = Retry(policy: RetryPolicy(maxAttempts: attempts, initialDelay: initialDelay, maxDelay: .seconds(5),
                                               maxElapsed: .seconds(60), isRetryable: { !($0 is CircuitOpenError) && !($0 is WebhookRejected) }),
                           clock: ContinuousClock(), bus: bus)
        self.breaker = CircuitBreaker(name: "webhook", configuration: CircuitBreakerConfiguration(trip: .consecutiveFailures(5), recoveryTimeout: .seconds(30)),
                                      clock: ContinuousClock(), bus: bus)
        (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(max(1, queueLimit)))
    }

    /// Alerts posted, and alerts given up on.
    public var statistics: (sent: Int, failed: Int) { counts.withLock { $0 } }

    public func write(_ events: [Event]) {
        for event in events where event.kind == .alertFired || event.kind == .alertResolved { continuation.yield(event) }
    }

    public func flush() {}

    public func close() { continuation.finish() }

    /// Posts queued alerts until the bus closes this sink or the task is cancelled; on graceful
    /// shutdown, the alerts already queued are still posted.
    public func run() async {
        await withGracefulShutdownHandler {
            for await event in stream {
                await post(event)
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    /// The JSON body for an alert event.
    package static func body(for event: Event) -> AttributeValue {
        var body = Attributes()
        body["text"] = .string("[\(event.service)] \(event.message)")
        body["event"] = .string(event.kind.rawValue)
        body["service"] = .string(event.service)
        body["host"] = .string(event.host)
        body["timestamp"] = .string(event.timestamp.description)
        for (key, value) in event.attrs { body[key] = value }
        return .object(body)
    }

    /// Posts one alert; with a tracer on the bus, in a client span `POST` (its retry, attempts
    /// and breaker calls under it).
    private func post(_ event: Event) async {
        guard let bus, bus.tracer != nil else {
            await postUntraced(event)
            return
        }
        let attributes: SpanAttributes = [
            "http.request.method": "POST", "url.full": .string(shownURL), "hardening.alert": .string(event.kind.rawValue),
        ]
        await bus.withSpan("POST", ofKind: .client, attributes: attributes) { span in
            if let failure = await postUntraced(event) {
                span?.setStatus(SpanStatus(code: .error, message: bus.configuration.redactor?.redacted(failure) ?? failure))
            }
        }
    }

    /// Posts one alert; returns why it could not, if it could not.
    @discardableResult
    private func postUntraced(_ event: Event) async -> String? {
        let payload = Array(Self.body(for: event).jsonText.utf8)
        do {
            try await retry.run("alert.webhook") {
                try await self.breaker.call { try await self.send(payload) }
            }
            counts.withLock { $0.sent += 1 }
            return nil
        } catch {
            counts.withLock { $0.failed += 1 }
            let cause = "\(error.lastError)"
            bus?.emit(ErrorRecorded(operation: "alert.webhook", errorType: "\(type(of: error.lastError))",
                                    error: "could not post the alert to \(shownURL): \(cause)",
                                    context: ["alert": .string(event.kind.rawValue)]))
            return cause
        }
    }

    private func send(_ payload: [UInt8]) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: payload))
        let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        for try await _ in response.body {}
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return }
        // 4xx other than 408/429 will not get better by retrying.
        if (400..<500).contains(status) && status != 408 && status != 429 { throw WebhookRejected(status: status) }
        throw WebhookFailed(status: status)
    }
}

/// The webhook answered with a status that retrying will not change.
public struct WebhookRejected: Error, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    public var description: String { "the webhook answered HTTP \(status)" }
}

/// The webhook answered with a status worth retrying (5xx, 408, 429).
public struct WebhookFailed: Error, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    public var description: String { "the webhook answered HTTP \(status)" }
}
#endif
