import Hardening

/// Two windows of the same logs side by side (`--baseline`): per operation, the call rate, the
/// error ratio, p50 and p99 in each, and the change.
package struct Comparison: Sendable {
    /// A stretch of time.
    package struct Window: Sendable {
        package var since: Timestamp
        package var until: Timestamp
        package var seconds: Double { max(0, Double(until.microsecondsSinceEpoch &- since.microsecondsSinceEpoch) / 1e6) }

        package init(since: Timestamp, until: Timestamp) {
            self.since = since
            self.until = until
        }
    }

    /// One operation in one window.
    package struct Side: Sendable {
        package var calls: Int64 = 0
        package var ratePerSecond: Double = 0
        /// Failed calls over calls; `nil` without calls.
        package var errorRatio: Double?
        package var p50Milliseconds: Double?
        package var p99Milliseconds: Double?

        init(_ operation: Summary.Operation?, seconds: Double) {
            guard let operation, operation.count > 0 else { return }
            calls = operation.count
            ratePerSecond = seconds > 0 ? Double(operation.count) / seconds : 0
            errorRatio = Double(operation.errors) / Double(operation.count)
            p50Milliseconds = operation.latency.percentileMilliseconds(50)
            p99Milliseconds = operation.latency.percentileMilliseconds(99)
        }
    }

    package var selected: Window
    package var baseline: Window
    /// Every operation of either window, by name.
    package var operations: [(name: String, selected: Side, baseline: Side)]

    /// The comparison of `summary` (over `selected`) with `baselineSummary` (over `baseline`).
    package init(selected: Window, summary: Summary, baseline: Window, baselineSummary: Summary) {
        self.selected = selected
        self.baseline = baseline
        operations = Set(summary.operations.keys).union(baselineSummary.operations.keys).sorted().map { name in
            (name, Side(summary.operations[name], seconds: selected.seconds), Side(baselineSummary.operations[name], seconds: baseline.seconds))
        }
    }

    /// The window the logs cover: the first and last event of their runs, within `since` and `until`.
    package static func window(of summary: Summary, since: Timestamp?, until: Timestamp?) -> Window? {
        let firsts = summary.runs.values.map(\.first).filter { $0.microsecondsSinceEpoch != .max }
        let lasts = summary.runs.values.map(\.last).filter { $0.microsecondsSinceEpoch != 0 }
        guard let first = since ?? firsts.min(), let last = until ?? lasts.max() else { return nil }
        return Window(since: first, until: last)
    }
}
