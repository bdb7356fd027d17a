import Hardening

/// Reads log files and folds their events into the same ``Summary`` the live process keeps
/// (docs/design.md invariant 1), with a ``Timeline`` for charts and an account of the input: what was
/// read, what was damaged, where.
///
/// Each file is folded on its own and the parts are merged, so breaker timelines come out right
/// whatever order the files are named in. Memory is bounded: events stream through, issues past
/// ``maxIssuesKept`` are only counted.
public struct Replay: Sendable {
    /// Which events count.
    public var filter: ReplayFilter
    /// Stop at the first damaged or unreadable input (``StrictReplayError``).
    public var strict: Bool
    /// Issues kept with their details; later ones are counted by kind only.
    public var maxIssuesKept: Int
    /// The reader.
    public var reader: LogReader
    /// Whether lines our encoder wrote are folded straight from their bytes (the fast path;
    /// the result is the same either way, which the tests check by turning it off).
    public var scansBytes = true
    /// Whether the report has a ``Timeline`` (the text and HTML reports show it; JSON,
    /// Prometheus and events do not need it, and replay is faster without it).
    public var buildsTimeline = true

    /// Creates a replay.
    public init(filter: ReplayFilter = ReplayFilter(), strict: Bool = false, maxIssuesKept: Int = 100, reader: LogReader = LogReader()) {
        self.filter = filter
        self.strict = strict
        self.maxIssuesKept = max(0, maxIssuesKept)
        self.reader = reader
    }

    /// What the input was and how much of it could be used.
    public struct InputAccount: Sendable {
        /// Files read (standard input counts as one).
        public var files = 0
        /// Events decoded.
        public var eventsRead: Int64 = 0
        /// Events the filters kept.
        public var eventsKept: Int64 = 0
        /// Events read again (the same `run` and `seq` as one already folded): counted once.
        public var duplicateEvents: Int64 = 0
        /// Issues by kind.
        public var issuesByKind: Tally = [:]
        /// The first issues, in order.
        public var issues: [ReadIssue] = []

        /// Issues in all.
        public var issueCount: Int64 { issuesByKind.values.reduce(0, +) }
    }

    /// The result.
    public struct Report: Sendable {
        /// The fold of the kept events (runs count every event read, for loss accounting).
        public var summary = Summary()
        /// The kept events over time.
        public var timeline = Timeline()
        /// The input.
        public var input = InputAccount()
    }

    /// Replays `inputs`. Kept events are also handed to `onEvent` as they are read (the
    /// `events` output; asking for them means decoding every event); `onFile` is told when each
    /// file starts, and `onProgress` every 65,536 events read (for a progress display).
    public func run(_ inputs: ReplayInputs, onEvent: ((Event) -> Void)? = nil,
                    onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)? = nil,
                    onProgress: ((_ eventsRead: Int64) -> Void)? = nil) throws(StrictReplayError) -> Report {
        var report = Report()
        var duplicates = DuplicateFilter()
        // The byte scanner folds what it can unless the events are wanted back or the filter
        // needs every kind's attrs (operations).
        var scanner = scansBytes && filter.operations.isEmpty && onEvent == nil
            ? LineScanner(buildsTimeline: buildsTimeline, filter: filter) : nil
        var nextProgress: Int64 = Self.progressInterval
        for issue in inputs.issues {
            try take(issue, into: &report.input)
        }
        for (index, path) in inputs.files.enumerated() {
            onFile?(index, path, report.input)
            report.input.files += 1
            var part = Summary()
            var timeline = Timeline()
            var firstIssue: ReadIssue?
            reader.read(
                path,
                onLine: { line in
                    let outcome = scanner?.fold(line, into: &part, timeline: &timeline, duplicates: &duplicates)
                    switch outcome {
                    case .folded?:
                        report.input.eventsKept += 1
                    case .duplicate?, .filteredOut?:
                        break
                    case .declined?, nil:
                        return false
                    }
                    report.input.eventsRead += 1
                    if report.input.eventsRead >= nextProgress {
                        nextProgress += Self.progressInterval
                        onProgress?(report.input.eventsRead)
                    }
                    return true
                },
                onEvent: { event in
                    report.input.eventsRead += 1
                    if report.input.eventsRead >= nextProgress {
                        nextProgress += Self.progressInterval
                        onProgress?(report.input.eventsRead)
                    }
                    if duplicates.isDuplicate(run: event.run, seq: event.seq) { return }
                    duplicates.insert(run: event.run, seq: event.seq)
                    guard filter.keeps(event) else {
                        part.recordRun(event)
                        return
                    }
                    report.input.eventsKept += 1
                    part.fold(event)
                    if buildsTimeline { timeline.record(event) }
                    onEvent?(event)
                },
                onIssue: { issue in
                    if firstIssue == nil { firstIssue = issue }
                    report.input.issuesByKind.add(issue.kind.rawValue)
                    if report.input.issues.count < maxIssuesKept { report.input.issues.append(issue) }
                })
            scanner?.flush(into: &part)
            report.summary.merge(part)
            report.timeline.merge(timeline)
            if strict, let firstIssue { throw StrictReplayError(issue: firstIssue) }
        }
        report.input.duplicateEvents = duplicates.duplicates
        return report
    }

    /// How many events between two `onProgress` calls.
    static let progressInterval: Int64 = 65_536

    private func take(_ issue: ReadIssue, into account: inout InputAccount) throws(StrictReplayError) {
        if strict { throw StrictReplayError(issue: issue) }
        account.issuesByKind.add(issue.kind.rawValue)
        if account.issues.count < maxIssuesKept { account.issues.append(issue) }
    }
}

/// `--strict` replay met damaged or unreadable input.
public struct StrictReplayError: Error, CustomStringConvertible {
    /// The first problem.
    public var issue: ReadIssue

    public var description: String { "strict replay stopped: \(issue)" }
}
