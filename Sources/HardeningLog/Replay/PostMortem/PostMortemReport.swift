import Hardening

/// The post-mortem sections of a replay report: the first failure (in all and per host), each
/// breaker's open periods and each health check's unhealthy periods per host and run, and the
/// incident's timeline across hosts.
package struct PostMortemReport: Sendable {
    /// A period a breaker was open, or a check unhealthy, on one host in one run.
    package struct Interval: Sendable {
        /// The breaker or check.
        package var name: String
        package var host: String
        package var run: String
        /// The change that began it; `nil` when it began before the first event read (the
        /// first change read leaves the state).
        package var start: Occurrence?
        /// The change that ended it; `nil` while it lasted to the end of the logs.
        package var end: Occurrence?
        /// How long it lasted in microseconds: to its end, or to the run's last event read; from
        /// the run's first event read when its start was not read.
        package var microseconds: Int64
        /// Why it began (the breaker's reason, the check's detail).
        package var reason: String
        /// The state it ended in (`half_open`, `closed`, `degraded`, `healthy`…).
        package var endedAs: String?
    }

    package var firstFailure: PostMortem.Failure?
    /// The first failure of each host, by host.
    package var firstFailureByHost: [(host: String, failure: PostMortem.Failure)] = []
    package var breakerIntervals: [Interval] = []
    package var unhealthyIntervals: [Interval] = []
    /// Notable events in time order across hosts, the earliest ``PostMortem/timelineLimit``.
    package var timeline: [PostMortem.Entry] = []
    /// Timeline entries left out.
    package var timelineOmitted: Int64 = 0
    /// Subjects, keys or changes past their limits: counted, not kept.
    package var overLimit: Int64 = 0
}

extension PostMortem {
    /// The sections, with `runs` (the summary's) to measure periods still open at the end.
    package func report(runs: [String: Summary.Run]) -> PostMortemReport {
        var report = PostMortemReport()
        report.firstFailure = firstFailure
        report.firstFailureByHost = firstFailureByHost.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        report.breakerIntervals = Self.intervals(breakerChanges, runs: runs) { $0 == "open" }
        report.unhealthyIntervals = Self.intervals(healthChanges, runs: runs) { $0 == "unhealthy" }
        report.overLimit = overLimit

        var timeline = entries
        var omitted = entriesOmitted
        let onTimeline = Set(entries.map { EventID(run: $0.at.run, seq: $0.at.seq, subject: $0.subject) })
        for (subject, failure) in firstFailureBySubject
        where !onTimeline.contains(EventID(run: failure.at.run, seq: failure.at.seq, subject: subject)) {
            timeline.append(Entry(at: failure.at, kind: failure.kind, what: "first_failure", subject: subject, message: failure.message))
        }
        for (key, stretches) in fallbackStretches {
            for stretch in Self.coalesced(stretches) {
                let subject = Subject(key: "operation", name: key.operation)
                timeline.append(Entry(at: stretch.first, kind: .fallbackUsed, what: "fallback_started", subject: subject,
                                      message: stretch.firstMessage, count: stretch.count))
                if stretch.count > 1 {
                    timeline.append(Entry(at: stretch.last, kind: .fallbackUsed, what: "fallback_stopped", subject: subject,
                                          message: "\(key.operation): the last fallback of \(stretch.count) since \(stretch.first.timestamp)",
                                          count: stretch.count))
                }
            }
        }
        timeline.sort { ($0.at, $0.what) < ($1.at, $1.what) }
        if timeline.count > Self.timelineLimit {
            omitted += Int64(timeline.count - Self.timelineLimit)
            timeline.removeLast(timeline.count - Self.timelineLimit)
        }
        report.timeline = timeline
        report.timelineOmitted = omitted
        return report
    }

    private struct EventID: Hashable {
        var run: String
        var seq: UInt64
        var subject: Subject
    }

    /// Stretches closer than ``fallbackQuietMicroseconds`` joined (parts read apart meet here).
    static func coalesced(_ stretches: [Stretch]) -> [Stretch] {
        var joined: [Stretch] = []
        for stretch in stretches.sorted(by: { $0.first < $1.first }) {
            if let last = joined.last,
                stretch.first.timestamp.microsecondsSinceEpoch <= last.last.timestamp.microsecondsSinceEpoch &+ fallbackQuietMicroseconds
            {
                joined[joined.count - 1].absorb(stretch)
            } else {
                joined.append(stretch)
            }
        }
        return joined
    }

    /// The periods in `isBad` states of each key's changes, in time order.
    static func intervals(_ changes: [ChangeKey: [Change]], runs: [String: Summary.Run],
                          isBad: (String) -> Bool) -> [PostMortemReport.Interval] {
        var intervals: [PostMortemReport.Interval] = []
        for (key, keyChanges) in changes {
            var open: PostMortemReport.Interval?
            let runFirst = runs[key.run]?.first
            let runLast = runs[key.run]?.last
            for (index, change) in keyChanges.sorted(by: { ($0.at.seq, $0.at.timestamp) < ($1.at.seq, $1.at.timestamp) }).enumerated() {
                if var period = open, !isBad(change.to) {
                    period.end = change.at
                    period.endedAs = change.to
                    let start = period.start?.timestamp ?? runFirst ?? change.at.timestamp
                    period.microseconds = max(0, change.at.timestamp.microsecondsSinceEpoch &- start.microsecondsSinceEpoch)
                    intervals.append(period)
                    open = nil
                } else if open == nil, isBad(change.to) {
                    open = PostMortemReport.Interval(name: key.name, host: key.host, run: key.run, start: change.at, end: nil,
                                                     microseconds: 0, reason: change.reason, endedAs: nil)
                } else if open == nil, index == 0, isBad(change.from) {
                    // Bad before the first change read: the period began before these logs.
                    let start = runFirst ?? change.at.timestamp
                    intervals.append(PostMortemReport.Interval(
                        name: key.name, host: key.host, run: key.run, start: nil, end: change.at,
                        microseconds: max(0, change.at.timestamp.microsecondsSinceEpoch &- start.microsecondsSinceEpoch), reason: "",
                        endedAs: change.to))
                }
            }
            if var period = open, let start = period.start {
                let end = runLast ?? start.timestamp
                period.microseconds = max(0, end.microsecondsSinceEpoch &- start.timestamp.microsecondsSinceEpoch)
                intervals.append(period)
            }
        }
        return intervals.sorted {
            let left = $0.start ?? $0.end!
            let right = $1.start ?? $1.end!
            return (left, $0.name) < (right, $1.name)
        }
    }
}
