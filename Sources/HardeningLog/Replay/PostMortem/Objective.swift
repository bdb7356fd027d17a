import Hardening

/// A service level objective for one operation, as `--slo` and the agent's YAML write it:
/// `OP=99.9%` (availability: at most 0.1 % of calls fail) or `OP:p99<300ms` (latency: 99 % of
/// calls take less than 300 ms).
package struct Objective: Sendable, Hashable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        /// Calls that do not fail (a fallback's answer counts as an answer).
        case availability
        /// Calls faster than the threshold, in microseconds.
        case latency(thresholdMicroseconds: Int64)
    }

    /// The operation (a timed call's name).
    package var operation: String
    package var kind: Kind
    /// The share of good calls it asks for, 0 < target < 1.
    package var target: Double
    /// How it was written.
    package var description: String

    /// Parses `text`; the error says what is wrong in a sentence.
    package init(parsing text: String) throws(ObjectiveError) {
        description = text
        if let colon = text.lastIndex(of: ":"), text[text.index(after: colon)...].hasPrefix("p") {
            operation = String(text[..<colon])
            let rule = text[text.index(after: colon)...].dropFirst()
            guard let less = rule.firstIndex(of: "<"), let percentile = Double(rule[..<less]), percentile > 0, percentile < 100 else {
                throw ObjectiveError(text, "a latency objective is OP:pNN<DURATION, such as search:p99<300ms (NN between 0 and 100)")
            }
            guard let threshold = Self.microseconds(rule[rule.index(after: less)...]), threshold > 0 else {
                throw ObjectiveError(text, "the latency threshold must be a positive duration in ms or s, such as 300ms or 1.5s")
            }
            kind = .latency(thresholdMicroseconds: threshold)
            target = percentile / 100
        } else if let equals = text.lastIndex(of: "=") {
            operation = String(text[..<equals])
            var value = text[text.index(after: equals)...]
            if value.hasSuffix("%") { value = value.dropLast() }
            guard let percent = Double(value), percent > 0, percent < 100 else {
                throw ObjectiveError(text, "an availability objective is OP=PERCENT, such as search=99.9% (between 0 and 100, exclusive)")
            }
            kind = .availability
            target = percent / 100
        } else {
            throw ObjectiveError(text, "write OP=99.9% (availability) or OP:p99<300ms (latency)")
        }
        guard !operation.isEmpty else { throw ObjectiveError(text, "the operation's name is missing before the objective") }
    }

    private static func microseconds(_ text: Substring) -> Int64? {
        let (number, scale): (Substring, Double) = text.hasSuffix("ms") ? (text.dropLast(2), 1_000)
            : text.hasSuffix("us") ? (text.dropLast(2), 1) : text.hasSuffix("s") ? (text.dropLast(), 1_000_000) : (text, 0)
        guard scale > 0, let value = Double(number), value.isFinite, value > 0, value * scale < 9e15 else { return nil }
        return Int64((value * scale).rounded())
    }
}

/// An objective that does not parse.
package struct ObjectiveError: Error, CustomStringConvertible {
    package var description: String

    init(_ text: String, _ problem: String) { description = "objective '\(text)': \(problem)" }
}

/// How an operation did against its objective over the replayed window: the error budget is the
/// share of calls the objective lets be bad; the burn rate is how fast the window spent it (1:
/// exactly as fast as the objective's period allows); the budget spent is the part of the whole
/// period's budget that this window used.
package struct ObjectiveResult: Sendable {
    package var objective: Objective
    /// The calls in the window.
    package var calls: Int64
    /// The calls that missed the objective (failed, or at or over the threshold).
    package var bad: Int64
    /// The window's length in seconds.
    package var windowSeconds: Double
    /// The objective's period in seconds (30 days unless set).
    package var periodSeconds: Double

    /// Bad calls over calls; `nil` without calls.
    package var badRatio: Double? { calls == 0 ? nil : Double(bad) / Double(calls) }
    /// The bad ratio over the budget (1 − target).
    package var burnRate: Double? { badRatio.map { $0 / (1 - objective.target) } }
    /// The share of the period's budget the window used: the burn rate times the window over the period.
    package var budgetSpent: Double? { burnRate.map { $0 * windowSeconds / max(1, periodSeconds) } }

    /// Evaluates `objective` on `summary`'s operations over a window of `windowSeconds`.
    package init(_ objective: Objective, summary: Summary, windowSeconds: Double, periodSeconds: Double) {
        self.objective = objective
        self.windowSeconds = max(0, windowSeconds)
        self.periodSeconds = periodSeconds
        let operation = summary.operations[objective.operation]
        calls = operation?.count ?? 0
        switch objective.kind {
        case .availability:
            bad = operation?.errors ?? 0
        case .latency(let threshold):
            bad = max(0, calls - (operation?.latency.count(atOrBelowMicroseconds: threshold - 1) ?? 0))
        }
    }
}
