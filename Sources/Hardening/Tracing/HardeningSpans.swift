import Instrumentation
import Tracing

/// The spans the primitives open: each around a call, through the bus's tracer (the one the
/// application bootstrapped, read once when the bus's configuration was made).
///
/// With no tracer nothing here runs: a primitive checks the bus (``EventBus/opensSpans``, one
/// byte) and takes its untraced path. With one, the span's context is the task's
/// `ServiceContext` for the body, with the span's W3C ids under ``InstrumentationContext/traceContext``
/// so that every event emitted inside carries them (read by ``TraceContextProvider/serviceContext``
/// without asking the tracer again).
///
/// What a span says in text (an error's description, a status message) goes through the bus's
/// redactor first, as the events do: a collector gets no secret the files would not.
@usableFromInline
struct HardeningSpans: Sendable {
    @usableFromInline let tracer: any Tracer
    let redactor: Redactor?

    /// The spans of `bus`'s tracer; `nil` without a bus or a tracer.
    @usableFromInline
    init?(_ bus: EventBus?) {
        guard let bus, let tracer = bus.tracer else { return nil }
        self.tracer = tracer
        self.redactor = bus.configuration.redactor
    }

    /// Runs `body` in a new child span of the current context; a thrown error is recorded on the
    /// span (status error, `error.type`) and rethrown; the span ends on every exit.
    @usableFromInline
    func run<T, E: Error>(
        _ name: String, kind: SpanKind = .internal, parent: ServiceContext? = nil, attributes: SpanAttributes,
        _ body: (any Span) async throws(E) -> T
    ) async throws(E) -> T {
        let span = tracer.startSpan(name, context: parent ?? ServiceContext.current ?? .topLevel, ofKind: kind)
        span.attributes.merge(attributes)
        var context = span.context
        context.traceContext = Self.traceContext(of: context, through: tracer)
        let result: Result<T, E> = await ServiceContext.withValue(context) {
            await CurrentSpan.$span.withValue(SpanBox(span)) {
                do throws(E) {
                    return .success(try await body(span))
                } catch {
                    return .failure(error)
                }
            }
        }
        if case .failure(let error) = result { recordFailure(error, on: span) }
        span.end()
        return try result.get()
    }

    /// Marks a span failed by `error`: the `exception` event (its message redacted), `error.type`,
    /// status error.
    func recordFailure(_ error: any Error, on span: any Span) {
        let message = redacted(String(describing: error))
        span.recordError(error, attributes: ["exception.message": .string(message)])
        span.attributes["error.type"] = String(reflecting: type(of: error))
        span.setStatus(SpanStatus(code: .error, message: message))
    }

    /// Marks a span failed with `message` (redacted).
    func fail(_ span: any Span, _ message: String) {
        span.setStatus(SpanStatus(code: .error, message: redacted(message)))
    }

    /// `text` without the secrets the bus's redactor finds in it.
    func redacted(_ text: String) -> String { redactor?.redacted(text) ?? text }

    /// The W3C ids of `context` as `instrument` injects them into a `traceparent` header.
    static func traceContext(of context: ServiceContext, through instrument: any Instrument) -> TraceContext? {
        var headers: [String: String] = [:]
        instrument.inject(context, into: &headers, using: HeaderInjector())
        return headers["traceparent"].flatMap(TraceContext.init(traceparent:))
    }
}

/// The span a primitive has open on this task, for span events (`breaker.rejected`,
/// `fallback.used`, …) that the bus adds as the events are emitted.
@usableFromInline
enum CurrentSpan {
    @TaskLocal static var span: SpanBox?
}

/// A span in a task-local (a box: task-local values must be one concrete type).
@usableFromInline
final class SpanBox: Sendable {
    let span: any Span
    init(_ span: any Span) { self.span = span }
}

/// Writes header fields into a dictionary.
struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

extension EventKind {
    /// The kinds that become span events on the span open where they are emitted: decisions
    /// inside a call that its span should show (rejections, state changes, fallbacks, timeouts,
    /// a retry's failed attempts and its end).
    static let spanEventKinds: Set<EventKind> = [
        BreakerRejected.kind, BreakerStateChanged.kind, FallbackUsed.kind, TimeoutFired.kind,
        BulkheadRejected.kind, RateLimiterRejected.kind, RetryAttemptFailed.kind, RetryExhausted.kind,
        RetrySucceeded.kind, HealthChanged.kind, AlertFired.kind, AlertResolved.kind,
    ]
}

extension EventBus {
    /// Runs `body` in a new span of the bus's ``tracer``, as the primitives do: the span's context
    /// is the task's `ServiceContext` inside (so the primitives' spans are its children and every
    /// event emitted inside carries its ids), a thrown error fails it, and it ends on every exit.
    /// With no tracer, `body` runs as it is (with `nil`).
    ///
    /// - Parameters:
    ///   - name: the span's name (low cardinality: `question`, not `question 42`).
    ///   - kind: the span kind (`.server` for a request the service answers).
    ///   - parent: the parent context; `nil`: the task's current one (`.topLevel` starts a trace).
    ///   - attributes: the span's first attributes.
    public func withSpan<T, E: Error>(
        _ name: String, ofKind kind: SpanKind = .internal, parent: ServiceContext? = nil, attributes: SpanAttributes = [:],
        _ body: ((any Span)?) async throws(E) -> T
    ) async throws(E) -> T {
        guard let spans = HardeningSpans(self) else { return try await body(nil) }
        return try await spans.run(name, kind: kind, parent: parent, attributes: attributes) { span throws(E) in
            try await body(span)
        }
    }

    /// Adds an emitted event to the open span as a span event (its attrs redacted, as the
    /// event's will be), if its kind is one of ``EventKind/spanEventKinds`` and a primitive's
    /// span is open on this task.
    @usableFromInline
    func addSpanEvent(_ kind: EventKind, _ attrs: Attributes) {
        guard EventKind.spanEventKinds.contains(kind), let box = CurrentSpan.span else { return }
        var attributes = SpanAttributes()
        for (key, value) in configuration.redactor?.redacted(attrs) ?? attrs {
            switch value {
            case .string(let text): attributes[key] = text
            case .int(let number): attributes[key] = number
            case .double(let number): attributes[key] = number
            case .bool(let flag): attributes[key] = flag
            case .null: continue
            case .array, .object: attributes[key] = String(describing: value)
            }
        }
        box.span.addEvent(SpanEvent(name: kind.rawValue, attributes: attributes))
    }
}
