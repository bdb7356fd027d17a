import Hardening
import Prometheus

/// Turns delivered events into Prometheus metrics (swift-prometheus) for `/metrics`.
///
/// swift-prometheus stops the process when a name is reused with another type, help text,
/// bucket set or label set, so every name here has one type, one help text and one fixed list
/// of label names, declared once in ``Family``; label values come from events. The names are
/// those of `hardening replay --format prometheus`, except that durations are histograms here
/// (aggregatable across instances) where replay, which has every sample, gives quantiles.
public final class PrometheusEventSink: EventSink, Sendable {
    /// One metric name with its fixed type, help and label names.
    struct Family: Sendable {
        enum Kind: Sendable { case counter, gauge, histogram }
        let name: String
        let kind: Kind
        let help: String
        let labels: [String]
        var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
    }

    enum Families {
        static let events = Family(name: "hardening_events_total", kind: .counter, help: "Events delivered, by kind.", labels: ["kind"])
        static let calls = Family(name: "hardening_operation_calls_total", kind: .counter, help: "Timed calls per operation.", labels: ["operation"])
        static let callErrors = Family(name: "hardening_operation_errors_total", kind: .counter, help: "Timed calls that failed, per operation.",
                                       labels: ["operation"])
        static let slow = Family(name: "hardening_operation_slow_total", kind: .counter, help: "Timed calls over their slow threshold.",
                                 labels: ["operation"])
        static let duration = Family(name: "hardening_operation_duration_seconds", kind: .histogram, help: "Duration of timed calls.",
                                     labels: ["operation"])
        static let retried = Family(name: "hardening_retry_attempts_failed_total", kind: .counter, help: "Failed attempts that were retried.",
                                    labels: ["operation"])
        static let retrySucceeded = Family(name: "hardening_retry_succeeded_total", kind: .counter,
                                           help: "Calls that succeeded after retrying.", labels: ["operation"])
        static let retryExhausted = Family(name: "hardening_retry_exhausted_total", kind: .counter,
                                           help: "Calls that gave up retrying, by reason.", labels: ["operation", "reason"])
        static let breakerTransitions = Family(name: "hardening_breaker_transitions_total", kind: .counter,
                                               help: "Breaker state changes, as from->to.", labels: ["breaker", "transition"])
        static let breakerRejected = Family(name: "hardening_breaker_rejected_total", kind: .counter, help: "Calls rejected by a breaker.",
                                            labels: ["breaker"])
        static let breakerState = Family(name: "hardening_breaker_state", kind: .gauge, help: "1 for the breaker's current state, 0 for the others.",
                                         labels: ["breaker", "state"])
        static let fallbacks = Family(name: "hardening_fallback_used_total", kind: .counter, help: "Fallbacks used, per operation and fallback.",
                                      labels: ["operation", "fallback"])
        static let timeouts = Family(name: "hardening_timeouts_total", kind: .counter, help: "Timeouts, per operation and scope.",
                                     labels: ["operation", "scope"])
        static let bulkheadRejected = Family(name: "hardening_bulkhead_rejected_total", kind: .counter, help: "Bulkhead rejections, by reason.",
                                             labels: ["bulkhead", "reason"])
        static let rateLimited = Family(name: "hardening_rate_limiter_rejected_total", kind: .counter, help: "Rate-limiter rejections.",
                                        labels: ["limiter"])
        static let errors = Family(name: "hardening_errors_total", kind: .counter, help: "Errors recorded, per operation.", labels: ["operation"])
        static let errorsByType = Family(name: "hardening_errors_by_type_total", kind: .counter, help: "Errors recorded, per error type.",
                                         labels: ["type"])
        static let probes = Family(name: "hardening_health_probes_total", kind: .counter, help: "Health probes, by status.",
                                   labels: ["check", "status"])
        static let probeDuration = Family(name: "hardening_health_probe_duration_seconds", kind: .histogram, help: "Health probe latency.",
                                          labels: ["check"])
        static let healthUp = Family(name: "hardening_health_up", kind: .gauge, help: "1 if the check's latest probe was healthy.",
                                     labels: ["check"])
        static let healthStatus = Family(name: "hardening_health_status", kind: .gauge,
                                         help: "The check's latest status: 0 healthy, 1 degraded, 2 unhealthy.", labels: ["check"])
        static let alertsFired = Family(name: "hardening_alerts_fired_total", kind: .counter, help: "Alerts fired, per rule/check.",
                                        labels: ["alert"])
        static let alertsResolved = Family(name: "hardening_alerts_resolved_total", kind: .counter, help: "Alerts resolved, per rule/check.",
                                           labels: ["alert"])
        static let metricCounters = Family(name: "hardening_metric_counter_total", kind: .counter,
                                           help: "swift-metrics counters, by series (name{dimensions}).", labels: ["series"])
        static let metricRecorders = Family(name: "hardening_metric_recorder_last", kind: .gauge,
                                            help: "The last value of swift-metrics recorders and gauges, by series.", labels: ["series"])
        static let dropped = Family(name: "hardening_events_dropped_total", kind: .counter, help: "Events the bus dropped on overflow.", labels: [])
        static let sinkDropped = Family(name: "hardening_sink_dropped_events_total", kind: .counter,
                                        help: "Events a sink's own full queue dropped, by sink.", labels: ["sink"])
        static let sinkFailures = Family(name: "hardening_sink_failures_total", kind: .counter, help: "Sink outages.", labels: [])
        static let sinkLost = Family(name: "hardening_sink_lost_events_total", kind: .counter, help: "Events sinks could not write.", labels: [])
    }

    /// Upper bounds of the duration histograms.
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    public let name = "prometheus"

    /// A sink feeding `registry` (a new one by default).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        // The families without labels exist from the start, so a scrape shows them at zero.
        for family in [Families.dropped, Families.sinkFailures, Families.sinkLost] { _ = counter(family, []) }
    }

    /// The exposition text (format 0.0.4).
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    public func write(_ events: [Event]) {
        for event in events { record(event) }
    }

    public func flush() {}
    public func close() {}

    private func counter(_ family: Family, _ values: [String]) -> Counter {
        precondition(family.kind == .counter && values.count == family.labels.count)
        if family.labels.isEmpty { return registry.makeCounter(descriptor: family.descriptor) }
        return registry.makeCounter(descriptor: family.descriptor, labels: Array(zip(family.labels, values)))
    }

    private func gauge(_ family: Family, _ values: [String]) -> Gauge {
        precondition(family.kind == .gauge && values.count == family.labels.count)
        return registry.makeGauge(descriptor: family.descriptor, labels: Array(zip(family.labels, values)))
    }

    private func histogram(_ family: Family, _ values: [String]) -> DurationHistogram {
        precondition(family.kind == .histogram && values.count == family.labels.count)
        return registry.makeDurationHistogram(descriptor: family.descriptor, labels: Array(zip(family.labels, values)),
                                              buckets: Self.durationBuckets)
    }

    private static func duration(milliseconds: Double) -> Duration {
        .microseconds(LatencyStats.microseconds(milliseconds: milliseconds))
    }

    private func record(_ event: Event) {
        counter(Families.events, [event.kind.rawValue]).increment()
        switch event.kind {
        case .timingRecorded:
            guard let timing = try? event.payload(as: TimingRecorded.self) else { return }
            counter(Families.calls, [timing.operation]).increment()
            if timing.outcome == "error" { counter(Families.callErrors, [timing.operation]).increment() }
            if timing.slow { counter(Families.slow, [timing.operation]).increment() }
            histogram(Families.duration, [timing.operation]).record(Self.duration(milliseconds: timing.durationMs))
        case .retryAttemptFailed:
            guard let failed = try? event.payload(as: RetryAttemptFailed.self) else { return }
            counter(Families.retried, [failed.operation]).increment()
        case .retrySucceeded:
            guard let succeeded = try? event.payload(as: RetrySucceeded.self) else { return }
            counter(Families.retrySucceeded, [succeeded.operation]).increment()
        case .retryExhausted:
            guard let exhausted = try? event.payload(as: RetryExhausted.self) else { return }
            counter(Families.retryExhausted, [exhausted.operation, exhausted.reason]).increment()
        case .breakerStateChanged:
            guard let change = try? event.payload(as: BreakerStateChanged.self) else { return }
            counter(Families.breakerTransitions, [change.breaker, "\(change.from)->\(change.to)"]).increment()
            for state in ["closed", "open", "half_open"] {
                gauge(Families.breakerState, [change.breaker, state]).set(to: state == change.to ? 1.0 : 0.0)
            }
        case .breakerRejected:
            guard let rejected = try? event.payload(as: BreakerRejected.self) else { return }
            counter(Families.breakerRejected, [rejected.breaker]).increment()
        case .fallbackUsed:
            guard let used = try? event.payload(as: FallbackUsed.self) else { return }
            counter(Families.fallbacks, [used.operation, used.fallback]).increment()
        case .timeoutFired:
            guard let fired = try? event.payload(as: TimeoutFired.self) else { return }
            counter(Families.timeouts, [fired.operation, fired.scope]).increment()
        case .bulkheadRejected:
            guard let rejected = try? event.payload(as: BulkheadRejected.self) else { return }
            counter(Families.bulkheadRejected, [rejected.bulkhead, rejected.reason]).increment()
        case .rateLimiterRejected:
            guard let rejected = try? event.payload(as: RateLimiterRejected.self) else { return }
            counter(Families.rateLimited, [rejected.limiter]).increment()
        case .errorRecorded:
            guard let recorded = try? event.payload(as: ErrorRecorded.self) else { return }
            counter(Families.errors, [recorded.operation]).increment()
            counter(Families.errorsByType, [recorded.errorType]).increment()
        case .healthProbed:
            guard let probe = try? event.payload(as: HealthProbed.self) else { return }
            counter(Families.probes, [probe.check, probe.status]).increment()
            histogram(Families.probeDuration, [probe.check]).record(Self.duration(milliseconds: probe.latencyMs))
            gauge(Families.healthUp, [probe.check]).set(to: probe.status == HealthStatus.healthy.rawValue ? 1.0 : 0.0)
            let rank: Double = probe.status == "healthy" ? 0 : probe.status == "degraded" ? 1 : 2
            gauge(Families.healthStatus, [probe.check]).set(to: rank)
        case .alertFired:
            guard let fired = try? event.payload(as: AlertFired.self) else { return }
            counter(Families.alertsFired, ["\(fired.rule)/\(fired.check)"]).increment()
        case .alertResolved:
            guard let resolved = try? event.payload(as: AlertResolved.self) else { return }
            counter(Families.alertsResolved, ["\(resolved.rule)/\(resolved.check)"]).increment()
        case .metricCounted:
            guard let counted = try? event.payload(as: MetricCounted.self), counted.delta > 0 else { return }
            counter(Families.metricCounters, [Attributes.series(counted.name, counted.dimensions)]).increment(by: counted.delta)
        case .metricRecorded:
            guard let recorded = try? event.payload(as: MetricRecorded.self) else { return }
            gauge(Families.metricRecorders, [Attributes.series(recorded.name, recorded.dimensions)]).set(to: recorded.value)
        case .busDropped:
            guard let dropped = try? event.payload(as: BusDropped.self) else { return }
            counter(Families.dropped, []).increment(by: dropped.count)
        case .sinkDropped:
            guard let dropped = try? event.payload(as: SinkDropped.self) else { return }
            counter(Families.sinkDropped, [dropped.sink]).increment(by: dropped.count)
        case .sinkFailed:
            counter(Families.sinkFailures, []).increment()
        case .sinkRecovered:
            guard let recovered = try? event.payload(as: SinkRecovered.self) else { return }
            counter(Families.sinkLost, []).increment(by: recovered.lostEvents)
        default:
            return
        }
    }
}
