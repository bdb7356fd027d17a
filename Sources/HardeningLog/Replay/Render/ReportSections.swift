import Hardening

/// The charts and tables of a summary and its timeline: the body of the replay page and of the
/// agent's live dashboard, so that a post-mortem looks like the live view did.
package struct ReportSections {
    package var summary: Summary
    package var timeline: Timeline

    package init(summary: Summary, timeline: Timeline) {
        self.summary = summary
        self.timeline = timeline
    }

    /// What was lost, as every format tells it: holes in `seq`, events lost at the end of a run
    /// (`file.closed`), the bus's drops, sinks' own drops, events sinks could not write, and
    /// sink outages.
    package static func lossText(_ summary: Summary) -> String {
        "Missing events (holes in seq): \(Format.count(Int64(clamping: summary.missingEvents))); "
            + "lost at the end of a run: \(Format.count(Int64(clamping: summary.lostTailEvents))); "
            + "dropped by the bus: \(Format.count(summary.loss.droppedByBus)); "
            + "dropped by sinks' queues: \(Format.count(summary.loss.droppedBySinkQueues.values.reduce(0) { $0 &+ $1 })); "
            + "lost by sinks: \(Format.count(summary.loss.lostBySinks)); sink outages: \(Format.count(summary.loss.sinkFailures))"
    }

    /// Whether anything was lost.
    package static func hasLoss(_ summary: Summary) -> Bool {
        summary.missingEvents > 0 || summary.lostTailEvents > 0 || summary.loss.droppedByBus > 0 || summary.loss.sinkFailures > 0
            || summary.loss.lostBySinks > 0 || summary.loss.droppedBySinkQueues.values.contains { $0 > 0 }
    }

    /// Appends the sections to `page`; a section with nothing to show is left out.
    package func render(into page: inout HTMLPage) {
        let summary = self.summary
        let chart = TimelineChart(timeline: timeline.coarsened(toAtMost: 200))
        if chart.hasData {
            if chart.hasOperations {
                page.heading("Latency over time (mean per bucket, ms)", level: 2)
                page.raw(chart.latencySVG())
            }
            if !timeline.stateChanges.isEmpty {
                page.heading("Breaker states", level: 2)
                page.raw(chart.breakerSVG())
            }
            if chart.hasProbes {
                page.heading("Health", level: 2)
                page.raw(chart.healthSVG())
            }
            if chart.hasErrors {
                page.heading("Errors per bucket (error.recorded events)", level: 2)
                page.raw(chart.errorSVG())
            }
            page.heading("Events per bucket", level: 2)
            page.raw(chart.eventsSVG())
            page.paragraph("Times are UTC; each bucket is \(Format.span(milliseconds: Double(chart.timeline.width) / 1000)).", cssClass: "none")
        }
        page.section("Operations (ms)", ["operation", "count", "errors", "error rate", "fallbacks", "fallback rate", "slow", "mean", "min", "p50", "p90",
                                         "p95", "p99", "max"],
                     summary.operations.sorted { $0.key < $1.key }.map { name, operation in
                         let latency = operation.latency
                         let calls = Double(operation.count)
                         return [name, Format.count(operation.count), Format.count(operation.errors),
                                 operation.count == 0 ? "-" : Format.percent(Double(operation.errors) / calls), Format.count(operation.fallbacks),
                                 operation.count == 0 ? "-" : Format.percent(Double(operation.fallbacks) / calls), Format.count(operation.slow),
                                 Format.milliseconds(latency.meanMilliseconds), Format.milliseconds(latency.minMilliseconds)]
                             + LatencyStats.reportedPercentiles.map { Format.milliseconds(latency.percentileMilliseconds($0.value)) }
                             + [Format.milliseconds(latency.maxMilliseconds)]
                     })
        page.section("Retries", ["operation", "retried", "succeeded after retry", "gave up", "waited"],
                     summary.retries.sorted { $0.key < $1.key }.map { name, retries in
                         [name, Format.count(retries.retriedAttempts), Format.count(retries.succeededAfterRetry), Format.tally(retries.exhausted),
                          Format.span(milliseconds: Double(retries.waitedMicroseconds) / 1000)]
                     })
        page.section("Circuit breakers", ["breaker", "state", "since", "opened", "rejected", "time open", "transitions"],
                     summary.breakers.sorted { $0.key < $1.key }.map { name, breaker in
                         [name, breaker.latest?.state ?? "-", breaker.latest?.since.description ?? "-", Format.count(breaker.opened),
                          Format.count(breaker.rejected), Format.span(milliseconds: Double(summary.openMicroseconds(of: name)) / 1000),
                          Format.tally(breaker.transitions)]
                     })
        page.section("Health checks", ["check", "probes", "availability", "last", "p50 ms", "p99 ms", "changes", "last probe said"],
                     summary.health.sorted { $0.key < $1.key }.map { name, health in
                         [name, Format.count(health.probes), health.availability.map(Format.percent) ?? "-", health.last?.status ?? "-",
                          Format.milliseconds(health.latency.percentileMilliseconds(50)),
                          Format.milliseconds(health.latency.percentileMilliseconds(99)), Format.count(health.changes),
                          timeline.lastProbes[name].map { $0.detail.isEmpty ? "-" : $0.detail } ?? "-"]
                     })
        if summary.errors.total > 0 {
            page.heading("Errors: \(Format.count(summary.errors.total))", level: 2)
            page.table(["operation", "errors"], summary.errors.byOperation.sorted { $0.key < $1.key }.map { [$0.key, Format.count($0.value)] })
            page.table(["type", "errors"], summary.errors.byType.sorted { $0.key < $1.key }.map { [$0.key, Format.count($0.value)] })
            if summary.errors.byRootCause != summary.errors.byType {
                page.table(["root cause (under a retry's wrapper)", "errors"],
                           summary.errors.byRootCause.sorted { $0.key < $1.key }.map { [$0.key, Format.count($0.value)] })
            }
            page.heading("Recent errors", level: 3)
            page.table(["time", "operation", "type", "message"],
                       summary.errors.recent.reversed().map { [$0.position.timestamp.description, $0.operation, $0.errorType, $0.message] })
        }
        let alerts = Set(summary.alertsFired.keys).union(summary.alertsResolved.keys).sorted()
        page.section("Alerts", ["rule/check", "fired", "resolved"], alerts.map { key in
            [key, Format.count(summary.alertsFired[key, default: 0]), Format.count(summary.alertsResolved[key, default: 0])]
        })
        if !timeline.alertChanges.isEmpty {
            page.heading("Recent alerts", level: 3)
            page.table(["time", "rule", "check", "change", "reason"], timeline.alertChanges.reversed().map { change in
                [change.timestamp.description, change.rule, change.check, change.fired ? "fired" : "resolved", change.reason]
            })
        }
        page.section("Counters (swift-metrics)", ["series", "total"], summary.counters.sorted { $0.key < $1.key }.map { [$0.key, Format.count($0.value)] })
        page.section("Recorders (swift-metrics)", ["series", "count", "last", "min", "max"],
                     summary.recorders.sorted { $0.key < $1.key }.filter { $0.value.count > 0 }.map { series, recorded in
                         [series, Format.count(recorded.count), Format.number(recorded.last?.value ?? 0), Format.number(recorded.min),
                          Format.number(recorded.max)]
                     })
        page.section("Events by kind", ["kind", "events"], summary.byKind.sorted { $0.key < $1.key }.map { [$0.key, Format.count($0.value)] })
    }

    /// The services named in the header, and a line per run (service, host, run id, first and
    /// last event), at most ten.
    package static func origins(_ summary: Summary) -> (services: String, runs: [String]) {
        let runs = summary.runs.sorted { ($0.value.first, $0.key) < ($1.value.first, $1.key) }
        let services = Set(runs.map(\.value.service)).sorted()
        var lines = runs.prefix(10).map { id, run in
            "service \(run.service) on host \(run.host), run \(id): \(run.first) to \(run.last)"
        }
        if runs.count > 10 { lines.append("and \(runs.count - 10) more run(s)") }
        return (services.prefix(3).joined(separator: ", ") + (services.count > 3 ? " and \(services.count - 3) more" : ""), lines)
    }
}
