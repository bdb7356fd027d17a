import Hardening

extension Replay.Report {
    /// The report as tables a person reads in a terminal: input and loss first (how complete
    /// the picture is), the post-mortem (first failure, open and unhealthy periods, timeline),
    /// then latency, retries, breakers, limits, health, errors, configuration.
    public var text: String {
        var out = ""
        let summary = self.summary
        out += "Replay: \(Format.count(Int64(input.files))) file(s), \(Format.count(input.eventsRead)) events read, "
        out += "\(Format.count(input.eventsKept)) kept, \(Format.count(input.issueCount)) input issue(s)\n"
        if summary.loss.syntheticEvents > 0 {
            out += "These events include synthetic ones (\"synthetic\": true, from hardening generate): their drops and outages are "
            out += "shown apart and are not loss.\n"
        }

        out += "\nCompleteness\n"
        var loss = TextTable("what", "count")
        loss.add(["events missing (holes in seq)", Format.count(Int64(clamping: summary.missingEvents))])
        let earlier = summary.runs.values.reduce(UInt64(0)) { $0.saturatingPlus($1.beforeFirstFile) }
        if earlier > 0 {
            loss.add(["in earlier files not read (deleted by retention, or not named; not loss)", Format.count(Int64(clamping: earlier))])
        }
        let belowLevel = summary.runs.values.reduce(UInt64(0)) { $0.saturatingPlus($1.belowMinimumLevel) }
        if belowLevel > 0 {
            loss.add(["below the files' minimum level (not written; not loss)", Format.count(Int64(clamping: belowLevel))])
        }
        if summary.lostTailEvents > 0 {
            loss.add(["lost at the end of a run (file.closed)", Format.count(Int64(clamping: summary.lostTailEvents))])
        }
        loss.add(["dropped by the bus (bus.dropped)", Format.count(summary.loss.droppedByBus)])
        for (sink, count) in summary.loss.droppedBySinkQueues.sorted(by: { $0.key < $1.key }) {
            loss.add(["dropped by \(sink)'s own queue (sink.dropped; the other sinks have them)", Format.count(count)])
        }
        loss.add(["sink outages (sink.failed)", Format.count(summary.loss.sinkFailures)])
        loss.add(["lost by sinks", Format.count(summary.loss.lostBySinks)])
        if summary.loss.syntheticEvents > 0 {
            loss.add(["synthetic drops and outages (generate's workload; not loss)", Format.count(summary.loss.syntheticEvents)])
        }
        for (kind, count) in input.issuesByKind.sorted(by: { $0.key < $1.key }) { loss.add(["input: \(kind)", Format.count(count)]) }
        if input.duplicateEvents > 0 {
            loss.add(["read twice (same run and seq; counted once)", Format.count(input.duplicateEvents)])
        }
        for (kind, count) in summary.malformed.sorted(by: { $0.key < $1.key }) { loss.add(["unreadable attrs: \(kind)", Format.count(count)]) }
        out += loss.render()
        for run in input.runsWithoutClosingRecord {
            out += "  ! run \(run): its closing record (file.closed) is not in the input: its newest events may be in a file not named "
                + "(the segment being written is plain until it rotates; `hardening replay DIR` reads every file), or it is still "
                + "writing or was killed\n"
        }
        for issue in input.issues.prefix(20) { out += "  ! \(issue)\n" }
        if input.issueCount > Int64(min(20, input.issues.count)) {
            out += "  … \(Format.count(input.issueCount - Int64(min(20, input.issues.count)))) more issue(s); --format json lists \(input.issues.count)\n"
        }

        if !summary.runs.isEmpty {
            out += "\nRuns\n"
            var runs = TextTable("run", "service", "host", "first", "last", "events", "missing")
            for (id, run) in summary.runs.sorted(by: { ($0.value.first, $0.key) < ($1.value.first, $1.key) }) {
                runs.add([id, run.service, run.host, run.first.description, run.last.description,
                          Format.count(Int64(clamping: run.seen.count)), Format.count(Int64(clamping: run.missing))])
            }
            out += runs.render()
        }

        out += postMortem.text
        if !objectives.isEmpty {
            out += "\nObjectives (a window of \(Format.span(milliseconds: (objectives[0].windowSeconds * 1000).rounded())); the budget is "
            out += "\(Format.span(milliseconds: objectives[0].periodSeconds * 1000))'s: a burn rate of 1x spends it exactly in that time)\n"
            var table = TextTable()
            table.headers = ObjectiveResult.headers
            for objective in objectives { table.add(objective.cells) }
            out += table.render()
        }
        if let comparison {
            out += "\n\(comparison.title)\n"
            var table = TextTable()
            table.headers = Comparison.headers
            for row in comparison.rows { table.add(row) }
            out += table.render()
        }

        if !summary.operations.isEmpty {
            out += "\nOperations (ms)\n"
            var table = TextTable("operation", "count", "errors", "fallbacks", "slow", "mean", "min", "p50", "p90", "p95", "p99", "max")
            for (name, operation) in summary.operations.sorted(by: { $0.key < $1.key }) {
                let latency = operation.latency
                table.add([name, Format.count(operation.count), Format.count(operation.errors), Format.count(operation.fallbacks), Format.count(operation.slow),
                           Format.milliseconds(latency.meanMilliseconds), Format.milliseconds(latency.minMilliseconds)]
                          + LatencyStats.reportedPercentiles.map { Format.milliseconds(latency.percentileMilliseconds($0.value)) }
                          + [Format.milliseconds(latency.maxMilliseconds)])
            }
            out += table.render()
            for (name, operation) in summary.operations.sorted(by: { $0.key < $1.key }) {
                if let problem = operation.latency.problem { out += "  ! \(name): \(problem)\n" }
            }
        }

        if !summary.retries.isEmpty {
            out += "\nRetries\n"
            var table = TextTable("operation", "retried", "succeeded after retry", "gave up", "waited")
            for (name, retries) in summary.retries.sorted(by: { $0.key < $1.key }) {
                table.add([name, Format.count(retries.retriedAttempts), Format.count(retries.succeededAfterRetry),
                           Format.tally(retries.exhausted), Format.span(milliseconds: Double(retries.waitedMicroseconds) / 1000)])
            }
            out += table.render()
        }

        if !summary.breakers.isEmpty {
            out += "\nCircuit breakers\n"
            var table = TextTable("breaker", "state", "since", "opened", "rejected", "time open", "transitions")
            for (name, breaker) in summary.breakers.sorted(by: { $0.key < $1.key }) {
                table.add([name, breaker.latest?.state ?? "-", breaker.latest?.since.description ?? "-", Format.count(breaker.opened),
                           Format.count(breaker.rejected), Format.span(milliseconds: Double(summary.openMicroseconds(of: name)) / 1000),
                           Format.tally(breaker.transitions)])
            }
            out += table.render()
            for (name, changes) in timeline.stateChanges.sorted(by: { $0.key < $1.key }) {
                let shown = changes.suffix(10).map { "\($0.timestamp) \($0.state)" }.joined(separator: " → ")
                out += "  \(name): \(changes.count > 10 ? "… " : "")\(shown)\n"
            }
        }

        let limits = summary.fallbacks.map { ("fallback", $0.key, $0.value) } + summary.timeouts.map { ("timeout", $0.key, $0.value) }
            + summary.bulkheads.map { ("bulkhead", $0.key, $0.value) } + summary.rateLimiters.map { ("rate limiter", $0.key, ["rejected": $0.value]) }
        if !limits.isEmpty {
            out += "\nFallbacks, timeouts and limits\n"
            var table = TextTable("kind", "name", "counts")
            for (kind, name, counts) in limits.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) { table.add([kind, name, Format.tally(counts)]) }
            out += table.render()
        }

        if !summary.health.isEmpty {
            out += "\nHealth\n"
            var table = TextTable("check", "probes", "availability", "last", "p50 ms", "p99 ms", "changes", "by status")
            for (name, health) in summary.health.sorted(by: { $0.key < $1.key }) {
                table.add([name, Format.count(health.probes), health.availability.map(Format.percent) ?? "-", health.last?.status ?? "-",
                           Format.milliseconds(health.latency.percentileMilliseconds(50)),
                           Format.milliseconds(health.latency.percentileMilliseconds(99)), Format.count(health.changes),
                           Format.tally(health.byStatus)])
            }
            out += table.render()
        }

        if summary.errors.total > 0 {
            out += "\nErrors: \(Format.count(summary.errors.total))\n"
            out += "  by operation: \(Format.tally(summary.errors.byOperation))\n"
            out += "  by type: \(Format.tally(summary.errors.byType))\n"
            if summary.errors.byRootCause != summary.errors.byType {
                out += "  by root cause (under a retry's wrapper): \(Format.tally(summary.errors.byRootCause))\n"
            }
            for error in summary.errors.recent.suffix(5) {
                out += "  \(error.position.timestamp) \(error.operation) \(error.errorType): \(error.message)\n"
            }
        }

        if !summary.config.isEmpty {
            out += "\nConfiguration checks\n"
            var table = TextTable("key", "status")
            for (key, status) in summary.config.sorted(by: { $0.key < $1.key }) { table.add([key, status]) }
            out += table.render()
        }
        if !summary.alertsFired.isEmpty || !summary.alertsResolved.isEmpty {
            out += "\nAlerts\n"
            out += "  fired: \(Format.tally(summary.alertsFired))\n  resolved: \(Format.tally(summary.alertsResolved))\n"
        }

        if !summary.counters.isEmpty || !summary.recorders.isEmpty {
            out += "\nMetrics (swift-metrics)\n"
            var table = TextTable("series", "count", "total / last", "min", "max", "mean")
            for (series, total) in summary.counters.sorted(by: { $0.key < $1.key }) { table.add([series, "-", Format.count(total), "-", "-", "-"]) }
            for (series, recorded) in summary.recorders.sorted(by: { $0.key < $1.key }) where recorded.count > 0 {
                table.add([series, Format.count(recorded.count), Format.number(recorded.last?.value ?? 0), Format.number(recorded.min),
                           Format.number(recorded.max), Format.number(Double(recorded.sumMillionths) / 1e6 / Double(recorded.count))])
            }
            out += table.render()
        }

        out += "\nEvents by kind: \(Format.tally(summary.byKind))\n"
        out += volumeTable
        return out
    }

    /// What each kind costs a log pipeline: its lines and their bytes (uncompressed, newline
    /// included), most bytes first; every event line read counts, kept or not.
    private var volumeTable: String {
        guard !input.volume.isEmpty else { return "" }
        let lines = input.volume.values.reduce(0) { $0 + $1.lines }
        let bytes = max(1, input.volume.values.reduce(0) { $0 + $1.bytes })
        var table = TextTable("kind", "lines", "bytes", "share of bytes")
        for (kind, volume) in input.volume.sorted(by: { ($0.value.bytes, $1.key) > ($1.value.bytes, $0.key) }) {
            table.add([kind, Format.count(volume.lines), Format.count(volume.bytes), Format.percent(Double(volume.bytes) / Double(bytes))])
        }
        table.add(["all", Format.count(lines), Format.count(bytes), Format.percent(1)])
        return "\nVolume (lines and bytes read, by kind)\n" + table.render()
    }
}
