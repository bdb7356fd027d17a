import Hardening

extension ObjectiveResult {
    /// `objective`, `operation`, `kind`, `target`, `threshold_ms` (latency), `calls`, `bad`,
    /// `bad_ratio`, `burn_rate`, `budget_spent` (of the period's budget), `window_seconds`,
    /// `period_seconds`; ratios are `null` without calls.
    var json: AttributeValue {
        var object: Attributes = ["objective": .string(objective.description), "operation": .string(objective.operation)]
        switch objective.kind {
        case .availability:
            object.appendUnchecked("kind", .string("availability"))
            object.appendUnchecked("target", .double(objective.target))
        case .latency(let threshold):
            object.appendUnchecked("kind", .string("latency"))
            object.appendUnchecked("target", .double(objective.target))
            object.appendUnchecked("threshold_ms", .double(Double(threshold) / 1000))
        }
        object.appendUnchecked("calls", .int(calls))
        object.appendUnchecked("bad", .int(bad))
        object.appendUnchecked("bad_ratio", badRatio.map { .double($0) } ?? .null)
        object.appendUnchecked("burn_rate", burnRate.map { .double($0) } ?? .null)
        object.appendUnchecked("budget_spent", budgetSpent.map { .double($0) } ?? .null)
        object.appendUnchecked("window_seconds", .double(windowSeconds))
        object.appendUnchecked("period_seconds", .double(periodSeconds))
        return .object(object)
    }

    /// The text and HTML row: objective, calls, bad, bad ratio, burn rate, budget spent.
    var cells: [String] {
        [objective.description, Format.count(calls), Format.count(bad), badRatio.map(Format.percent) ?? "-",
         burnRate.map { Format.number($0) + "x" } ?? "-", budgetSpent.map(Format.smallPercent) ?? "-"]
    }

    static let headers = ["objective", "calls", "bad", "bad ratio", "burn rate", "budget spent"]
}

extension Comparison {
    /// `selected` and `baseline` (each `since`, `until`, `seconds`), and per operation both
    /// sides (`calls`, `rate_per_second`, `error_ratio`, `p50_ms`, `p99_ms`) and `change`:
    /// `rate` relative (0.25 is 25 % more), `error_ratio`, `p50_ms` and `p99_ms` as differences.
    var json: AttributeValue {
        func window(_ window: Window) -> AttributeValue {
            .object(["since": .string(window.since.description), "until": .string(window.until.description), "seconds": .double(window.seconds)])
        }
        func side(_ side: Side) -> AttributeValue {
            .object(["calls": .int(side.calls), "rate_per_second": .double(side.ratePerSecond), "error_ratio": side.errorRatio.map { .double($0) } ?? .null,
                     "p50_ms": side.p50Milliseconds.map { .double($0) } ?? .null, "p99_ms": side.p99Milliseconds.map { .double($0) } ?? .null])
        }
        var operationsObject = Attributes()
        for (name, selected, baseline) in operations {
            operationsObject.appendUnchecked(name, .object([
                "selected": side(selected), "baseline": side(baseline),
                "change": .object([
                    "rate": Self.relative(selected.ratePerSecond, baseline.ratePerSecond).map { .double($0) } ?? .null,
                    "error_ratio": Self.difference(selected.errorRatio, baseline.errorRatio).map { .double($0) } ?? .null,
                    "p50_ms": Self.difference(selected.p50Milliseconds, baseline.p50Milliseconds).map { .double($0) } ?? .null,
                    "p99_ms": Self.difference(selected.p99Milliseconds, baseline.p99Milliseconds).map { .double($0) } ?? .null,
                ]),
            ]))
        }
        return .object(["selected": window(selected), "baseline": window(baseline), "operations": .object(operationsObject)])
    }

    static func relative(_ value: Double, _ baseline: Double) -> Double? { baseline > 0 ? value / baseline - 1 : nil }
    static func difference(_ value: Double?, _ baseline: Double?) -> Double? {
        guard let value, let baseline else { return nil }
        return value - baseline
    }

    static let headers = ["operation", "calls/s", "before", "errors", "before", "p50 ms", "before", "p99 ms", "before"]

    /// The text and HTML rows: each measure now, then in the baseline.
    var rows: [[String]] {
        func ratio(_ value: Double?) -> String { value.map(Format.percent) ?? "-" }
        func milliseconds(_ value: Double?) -> String { value.map(Format.milliseconds) ?? "-" }
        return operations.map { name, selected, baseline in
            [name, Format.number(selected.ratePerSecond), Format.number(baseline.ratePerSecond), ratio(selected.errorRatio), ratio(baseline.errorRatio),
             milliseconds(selected.p50Milliseconds), milliseconds(baseline.p50Milliseconds), milliseconds(selected.p99Milliseconds),
             milliseconds(baseline.p99Milliseconds)]
        }
    }

    var title: String { "Compared with the baseline (\(baseline.since) to \(baseline.until); now \(selected.since) to \(selected.until))" }
}
