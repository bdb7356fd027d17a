import Instrumentation

/// A W3C trace context (`traceparent`): the trace and span an event belongs to, so that Datadog,
/// Grafana and other backends link the event to its trace.
public struct TraceContext: Sendable, Hashable {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero.
    public let spanID: String
    /// The `sampled` flag.
    public let sampled: Bool

    /// A context from its ids; `nil` unless both are valid W3C ids.
    public init?(traceID: String, spanID: String, sampled: Bool = true) {
        guard Self.isValid(traceID, count: 32), Self.isValid(spanID, count: 16) else { return nil }
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// Parses a `traceparent` header (`00-<trace id>-<span id>-<flags>`); `nil` when invalid.
    /// A future version's extra fields are ignored, as the W3C recommendation asks.
    public init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0].allSatisfy(\.isHexDigit), parts[0] != "ff",
            parts[3].count == 2, let flags = UInt8(parts[3], radix: 16), parts[0] != "00" || parts.count == 4
        else { return nil }
        self.init(traceID: String(parts[1]), spanID: String(parts[2]), sampled: flags & 1 == 1)
    }

    /// A new trace with a random trace id and span id (for work that starts a trace: a job, a
    /// request without `traceparent`).
    public static func random() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return TraceContext(traceID: hex(generator.next() | 1, 16) + hex(generator.next(), 16), spanID: hex(generator.next() | 1, 16))!
    }

    /// A child span of this context: the same trace, a new random span id.
    public func child() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return TraceContext(traceID: traceID, spanID: Self.hex(generator.next() | 1, 16), sampled: sampled)!
    }

    private static func hex(_ value: UInt64, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The `traceparent` header value (version 00).
    public var traceparent: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    private static func isValid(_ id: String, count: Int) -> Bool {
        id.utf8.count == count && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } && id.utf8.contains { $0 != 0x30 }
    }
}

/// The `ServiceContext` key of a ``TraceContext``.
enum TraceContextKey: ServiceContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "traceparent" }
}

extension InstrumentationContext {
    /// The W3C trace context carried by this service context, if any.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}

/// Where the bus finds the trace context of the code that emits: read on the emitting task, so
/// that events carry `trace_id` and `span_id`.
public struct TraceContextProvider: Sendable {
    /// Reads the current context.
    public let current: @Sendable () -> TraceContext?

    /// Whether this is ``serviceContext``, which a bus with a tracer widens to ``tracing(_:)``.
    let readsServiceContextOnly: Bool

    /// A provider reading `current`.
    public init(_ current: @escaping @Sendable () -> TraceContext?) {
        self.init(current, readsServiceContextOnly: false)
    }

    private init(_ current: @escaping @Sendable () -> TraceContext?, readsServiceContextOnly: Bool) {
        self.current = current
        self.readsServiceContextOnly = readsServiceContextOnly
    }

    /// The ``TraceContext`` of the task's `ServiceContext.current` (set by
    /// ``W3CTraceContextPropagation`` from a `traceparent` header, or by your own code).
    ///
    /// The primitives' spans put their ids there too. A bus whose configuration has a tracer
    /// uses ``tracing(_:)`` with it instead, so that spans the application opens itself count.
    public static let serviceContext = TraceContextProvider({ ServiceContext.current?.traceContext }, readsServiceContextOnly: true)

    /// The ``TraceContext`` of the task's `ServiceContext.current`, or else the ids that
    /// `instrument` (a tracer such as swift-otel's) propagates for it as a `traceparent`
    /// header: the span the application opened itself with `withSpan`. The bus's default when a
    /// tracer was bootstrapped.
    public static func tracing(_ instrument: any Instrument) -> TraceContextProvider {
        TraceContextProvider {
            guard let context = ServiceContext.current else { return nil }
            return context.traceContext ?? HardeningSpans.traceContext(of: context, through: instrument)
        }
    }

    /// No trace context.
    public static let none = TraceContextProvider { nil }
}

/// An `Instrument` (swift-distributed-tracing) that carries the W3C `traceparent` header into and
/// out of a `ServiceContext`: extract it from an incoming request, inject it into outgoing ones.
/// Bootstrap it with `InstrumentationSystem.bootstrap(W3CTraceContextPropagation())`, or call it
/// directly.
public struct W3CTraceContextPropagation: Instrument {
    /// The propagation.
    public init() {}

    public func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract: Extractor, Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier), let parsed = TraceContext(traceparent: header) else { return }
        context.traceContext = parsed
    }

    public func inject<Carrier, Inject>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        injector.inject(trace.traceparent, forKey: "traceparent", into: &carrier)
    }
}
