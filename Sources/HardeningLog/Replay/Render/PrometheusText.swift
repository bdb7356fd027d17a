import Hardening

/// Prometheus text exposition (version 0.0.4), written by hand: each metric family once, with
/// `# HELP` and `# TYPE`, one fixed label set per name, label values escaped.
struct PrometheusText {
    private var out = ""

    mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        guard !samples.isEmpty else { return }
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples { out += sampleLine(name, sample.labels, sample.value) }
    }

    mutating func summaryFamily(_ name: String, _ help: String, label: String, _ items: [(String, LatencyStats)]) {
        guard !items.isEmpty else { return }
        out += "# HELP \(name) \(help)\n# TYPE \(name) summary\n"
        for (value, latency) in items {
            for (quantile, percentile) in [("0.5", 50.0), ("0.9", 90.0), ("0.95", 95.0), ("0.99", 99.0)] {
                out += sampleLine(name, [(label, value), ("quantile", quantile)], latency.percentileMilliseconds(percentile) / 1000)
            }
            out += sampleLine(name + "_sum", [(label, value)], Double(latency.totalMicroseconds) / 1e6)
            out += sampleLine(name + "_count", [(label, value)], Double(latency.count))
        }
    }

    private func sampleLine(_ name: String, _ labels: [(String, String)], _ value: Double) -> String {
        let rendered = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        return "\(name)\(rendered) \(Self.number(value))\n"
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    var text: String { out }
}

extension Replay.Report {
    /// The summary as Prometheus text exposition: counters of everything, operation and probe
    /// latency as summaries (seconds, with quantiles), breaker states as gauges.
    public var prometheusText: String {
        var text = PrometheusText()
        let summary = self.summary
        func counts(_ tally: Tally, _ label: String) -> [(labels: [(String, String)], value: Double)] {
            tally.sorted { $0.key < $1.key }.map { ([(label, $0.key)], Double($0.value)) }
        }
        func nested(_ map: [String: Tally], _ outer: String, _ inner: String) -> [(labels: [(String, String)], value: Double)] {
            map.sorted { $0.key < $1.key }.flatMap { name, tally in
                tally.sorted { $0.key < $1.key }.map { ([(outer, name), (inner, $0.key)], Double($0.value)) }
            }
        }
        let operations = summary.operations.sorted { $0.key < $1.key }
        text.family("hardening_events_total", "counter", "Events folded, by kind.", counts(summary.byKind, "kind"))
        text.family("hardening_operation_calls_total", "counter", "Timed calls per operation.",
                    operations.map { ([("operation", $0.key)], Double($0.value.count)) })
        text.family("hardening_operation_errors_total", "counter", "Timed calls that failed, per operation.",
                    operations.map { ([("operation", $0.key)], Double($0.value.errors)) })
        text.family("hardening_operation_slow_total", "counter", "Timed calls over their slow threshold, per operation.",
                    operations.map { ([("operation", $0.key)], Double($0.value.slow)) })
        text.summaryFamily("hardening_operation_duration_seconds", "Duration of timed calls.", label: "operation",
                           operations.map { ($0.key, $0.value.latency) })
        let retries = summary.retries.sorted { $0.key < $1.key }
        text.family("hardening_retry_attempts_failed_total", "counter", "Failed attempts that were retried.",
                    retries.map { ([("operation", $0.key)], Double($0.value.retriedAttempts)) })
        text.family("hardening_retry_succeeded_total", "counter", "Calls that succeeded after retrying.",
                    retries.map { ([("operation", $0.key)], Double($0.value.succeededAfterRetry)) })
        text.family("hardening_retry_exhausted_total", "counter", "Calls that gave up retrying, by reason.",
                    nested(summary.retries.mapValues(\.exhausted), "operation", "reason"))
        let breakers = summary.breakers.sorted { $0.key < $1.key }
        text.family("hardening_breaker_transitions_total", "counter", "Breaker state changes, as from->to.",
                    nested(summary.breakers.mapValues(\.transitions), "breaker", "transition"))
        text.family("hardening_breaker_rejected_total", "counter", "Calls rejected by a breaker.",
                    breakers.map { ([("breaker", $0.key)], Double($0.value.rejected)) })
        text.family("hardening_breaker_open_seconds_total", "counter", "Time breakers spent open (ended periods).",
                    breakers.map { ([("breaker", $0.key)], Double($0.value.openMicroseconds) / 1e6) })
        text.family("hardening_breaker_state", "gauge", "1 for the breaker's latest state.",
                    breakers.compactMap { name, breaker in breaker.latest.map { ([("breaker", name), ("state", $0.state)], 1) } })
        text.family("hardening_fallback_used_total", "counter", "Fallbacks used, per operation and fallback.",
                    nested(summary.fallbacks, "operation", "fallback"))
        text.family("hardening_timeouts_total", "counter", "Timeouts, per operation and scope.", nested(summary.timeouts, "operation", "scope"))
        text.family("hardening_bulkhead_rejected_total", "counter", "Bulkhead rejections, by reason.", nested(summary.bulkheads, "bulkhead", "reason"))
        text.family("hardening_rate_limiter_rejected_total", "counter", "Rate-limiter rejections.", counts(summary.rateLimiters, "limiter"))
        text.family("hardening_errors_total", "counter", "Errors recorded, per operation.", counts(summary.errors.byOperation, "operation"))
        text.family("hardening_errors_by_type_total", "counter", "Errors recorded, per error type.", counts(summary.errors.byType, "type"))
        let health = summary.health.sorted { $0.key < $1.key }
        text.family("hardening_health_probes_total", "counter", "Health probes, by status.", nested(summary.health.mapValues(\.byStatus), "check", "status"))
        text.summaryFamily("hardening_health_probe_duration_seconds", "Health probe latency.", label: "check",
                           health.map { ($0.key, $0.value.latency) })
        text.family("hardening_health_up", "gauge", "1 if the check's latest probe was healthy.",
                    health.compactMap { name, check in check.last.map { ([("check", name)], $0.status == "healthy" ? 1 : 0) } })
        text.family("hardening_alerts_fired_total", "counter", "Alerts fired, per rule/check.", counts(summary.alertsFired, "alert"))
        text.family("hardening_alerts_resolved_total", "counter", "Alerts resolved, per rule/check.", counts(summary.alertsResolved, "alert"))
        text.family("hardening_metric_counter_total", "counter", "swift-metrics counters, by series (name{dimensions}).",
                    counts(summary.counters, "series"))
        let recorders = summary.recorders.sorted { $0.key < $1.key }.filter { $0.value.count > 0 }
        text.family("hardening_metric_recorder", "gauge", "swift-metrics recorders and gauges, by series: last, min, max, mean.",
                    recorders.flatMap { series, recorded -> [(labels: [(String, String)], value: Double)] in
                        [("last", recorded.last?.value ?? 0), ("min", recorded.min), ("max", recorded.max),
                         ("mean", Double(recorded.sumMillionths) / 1e6 / Double(recorded.count))].map { ([("series", series), ("stat", $0.0)], $0.1) }
                    })
        text.family("hardening_metric_recorder_count", "counter", "Values recorded, by series.",
                    recorders.map { ([("series", $0.key)], Double($0.value.count)) })
        text.family("hardening_events_dropped_total", "counter", "Events the bus dropped on overflow.", [([], Double(summary.loss.droppedByBus))])
        text.family("hardening_events_missing_total", "counter", "Events never seen (holes in seq).", [([], Double(summary.missingEvents))])
        text.family("hardening_sink_dropped_events_total", "counter", "Events a sink's own full queue dropped, by sink.",
                    counts(summary.loss.droppedBySinkQueues, "sink"))
        text.family("hardening_sink_failures_total", "counter", "Sink outages.", [([], Double(summary.loss.sinkFailures))])
        text.family("hardening_sink_lost_events_total", "counter", "Events sinks could not write.", [([], Double(summary.loss.lostBySinks))])
        text.family("hardening_replay_issues_total", "counter", "Damaged or unreadable input found by replay, by kind.",
                    counts(input.issuesByKind, "kind"))
        return text.text
    }
}
