/// Every metric family the project exposes from a ``Summary``, in exposition order: the one list
/// that the agent's `/metrics` and `hardening replay --format prometheus` both render, so that
/// the same events give the same families, types, help texts, labels and values in both.
///
/// Durations are histograms in seconds (aggregatable across instances, with
/// ``durationBuckets``), and their exact quantiles are gauges beside them.
public enum MetricCatalogue {
    /// `hardening_events_total`.
    public static let events = MetricFamily("hardening_events_total", .counter, help: "Events, by kind.", labels: ["kind"])
    /// `hardening_operation_calls_total`.
    public static let calls = MetricFamily("hardening_operation_calls_total", .counter, help: "Timed calls, per operation.",
                                           labels: ["operation"])
    /// `hardening_operation_errors_total`.
    public static let callErrors = MetricFamily("hardening_operation_errors_total", .counter, help: "Timed calls that failed, per operation.",
                                                labels: ["operation"])
    /// `hardening_operation_fallbacks_total`.
    public static let fallbackCalls = MetricFamily("hardening_operation_fallbacks_total", .counter,
                                                   help: "Timed calls answered by a fallback, per operation.", labels: ["operation"])
    /// `hardening_operation_slow_total`.
    public static let slowCalls = MetricFamily("hardening_operation_slow_total", .counter,
                                               help: "Timed calls over their slow threshold, per operation.", labels: ["operation"])
    /// `hardening_operation_duration_seconds`.
    public static let callDuration = MetricFamily("hardening_operation_duration_seconds", .histogram, help: "Duration of timed calls.",
                                                  labels: ["operation"])
    /// `hardening_operation_duration_quantile_seconds`.
    public static let callDurationQuantiles = MetricFamily("hardening_operation_duration_quantile_seconds", .gauge,
                                                           help: "Quantiles of the duration of timed calls.",
                                                           labels: ["operation", "quantile"])
    /// `hardening_retry_attempts_failed_total`.
    public static let retriedAttempts = MetricFamily("hardening_retry_attempts_failed_total", .counter,
                                                     help: "Failed attempts that were retried.", labels: ["operation"])
    /// `hardening_retry_succeeded_total`.
    public static let retrySucceeded = MetricFamily("hardening_retry_succeeded_total", .counter, help: "Calls that succeeded after retrying.",
                                                    labels: ["operation"])
    /// `hardening_retry_exhausted_total`.
    public static let retryExhausted = MetricFamily("hardening_retry_exhausted_total", .counter, help: "Calls that gave up retrying, by reason.",
                                                    labels: ["operation", "reason"])
    /// `hardening_breaker_transitions_total`.
    public static let breakerTransitions = MetricFamily("hardening_breaker_transitions_total", .counter,
                                                        help: "Breaker state changes, as from->to.", labels: ["breaker", "transition"])
    /// `hardening_breaker_rejected_total`.
    public static let breakerRejected = MetricFamily("hardening_breaker_rejected_total", .counter, help: "Calls rejected by a breaker.",
                                                     labels: ["breaker"])
    /// `hardening_breaker_open_seconds_total`.
    public static let breakerOpenTime = MetricFamily("hardening_breaker_open_seconds_total", .counter,
                                                     help: "Time breakers spent open (ended periods).", labels: ["breaker"])
    /// `hardening_breaker_state`.
    public static let breakerState = MetricFamily("hardening_breaker_state", .gauge,
                                                  help: "1 for the breaker's latest state, 0 for the others.", labels: ["breaker", "state"])
    /// `hardening_fallback_used_total`.
    public static let fallbacks = MetricFamily("hardening_fallback_used_total", .counter, help: "Fallbacks used, per operation and fallback.",
                                               labels: ["operation", "fallback"])
    /// `hardening_timeouts_total`.
    public static let timeouts = MetricFamily("hardening_timeouts_total", .counter, help: "Timeouts, per operation and scope.",
                                              labels: ["operation", "scope"])
    /// `hardening_bulkhead_rejected_total`.
    public static let bulkheadRejected = MetricFamily("hardening_bulkhead_rejected_total", .counter, help: "Bulkhead rejections, by reason.",
                                                      labels: ["bulkhead", "reason"])
    /// `hardening_rate_limiter_rejected_total`.
    public static let rateLimited = MetricFamily("hardening_rate_limiter_rejected_total", .counter, help: "Rate-limiter rejections.",
                                                 labels: ["limiter"])
    /// `hardening_errors_total`.
    public static let errors = MetricFamily("hardening_errors_total", .counter, help: "Errors recorded, per operation.", labels: ["operation"])
    /// `hardening_errors_by_type_total`.
    public static let errorsByType = MetricFamily("hardening_errors_by_type_total", .counter, help: "Errors recorded, per error type.",
                                                  labels: ["type"])
    /// `hardening_health_probes_total`.
    public static let probes = MetricFamily("hardening_health_probes_total", .counter, help: "Health probes, by status.",
                                            labels: ["check", "status"])
    /// `hardening_health_probe_duration_seconds`.
    public static let probeDuration = MetricFamily("hardening_health_probe_duration_seconds", .histogram, help: "Health probe latency.",
                                                   labels: ["check"])
    /// `hardening_health_up`.
    public static let healthUp = MetricFamily("hardening_health_up", .gauge, help: "1 if the check's latest probe was healthy.",
                                              labels: ["check"])
    /// `hardening_health_status`.
    public static let healthStatus = MetricFamily("hardening_health_status", .gauge,
                                                  help: "The check's latest status: 0 healthy, 1 degraded, 2 unhealthy.", labels: ["check"])
    /// `hardening_alerts_fired_total`.
    public static let alertsFired = MetricFamily("hardening_alerts_fired_total", .counter, help: "Alerts fired, per rule/check.",
                                                 labels: ["alert"])
    /// `hardening_alerts_resolved_total`.
    public static let alertsResolved = MetricFamily("hardening_alerts_resolved_total", .counter, help: "Alerts resolved, per rule/check.",
                                                    labels: ["alert"])
    /// `hardening_metric_counter_total`.
    public static let metricCounters = MetricFamily("hardening_metric_counter_total", .counter,
                                                    help: "swift-metrics counters, by series (name{dimensions}).", labels: ["series"])
    /// `hardening_metric_recorder`.
    public static let metricRecorders = MetricFamily("hardening_metric_recorder", .gauge,
                                                     help: "swift-metrics recorders and gauges, by series: last, min, max, mean.",
                                                     labels: ["series", "stat"])
    /// `hardening_metric_recorder_values_total`.
    public static let metricRecorderValues = MetricFamily("hardening_metric_recorder_values_total", .counter,
                                                          help: "Values recorded by swift-metrics recorders and gauges, by series.",
                                                          labels: ["series"])
    /// `hardening_events_dropped_total`.
    public static let droppedByBus = MetricFamily("hardening_events_dropped_total", .counter, help: "Events the bus dropped on overflow.")
    /// `hardening_events_missing_total`.
    public static let missing = MetricFamily("hardening_events_missing_total", .counter, help: "Events never seen (holes in seq).")
    /// `hardening_sink_dropped_events_total`.
    public static let droppedBySinks = MetricFamily("hardening_sink_dropped_events_total", .counter,
                                                    help: "Events a sink's own full queue dropped, by sink.", labels: ["sink"])
    /// `hardening_sink_failures_total`.
    public static let sinkFailures = MetricFamily("hardening_sink_failures_total", .counter, help: "Sink outages.")
    /// `hardening_sink_lost_events_total`.
    public static let lostBySinks = MetricFamily("hardening_sink_lost_events_total", .counter, help: "Events sinks could not write.")
    /// `hardening_events_lost_tail_total`.
    public static let lostTail = MetricFamily("hardening_events_lost_tail_total", .counter,
                                              help: "Events a run's file sink was given but could not write before it stopped (its file.closed record).")

    /// The families of a summary, in exposition order.
    public static let all: [MetricFamily] = [
        events, calls, callErrors, fallbackCalls, slowCalls, callDuration, callDurationQuantiles, retriedAttempts, retrySucceeded, retryExhausted,
        breakerTransitions, breakerRejected, breakerOpenTime, breakerState, fallbacks, timeouts, bulkheadRejected, rateLimited,
        errors, errorsByType, probes, probeDuration, healthUp, healthStatus, alertsFired, alertsResolved, metricCounters,
        metricRecorders, metricRecorderValues, droppedByBus, missing, droppedBySinks, sinkFailures, lostBySinks, lostTail,
    ]

    /// The upper bounds of the duration histograms' buckets (`+Inf` follows).
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// The quantiles given beside each duration histogram.
    public static let quantiles: [(label: String, percentile: Double)] = [("0.5", 50), ("0.9", 90), ("0.95", 95), ("0.99", 99)]

    /// The states a breaker's state gauge shows (one is 1, the others 0).
    public static let breakerStates = ["closed", "open", "half_open"]
}
