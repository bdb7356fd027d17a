#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
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
    package var scansBytes = true
    /// Whether the report has a ``Timeline`` (the text and HTML reports show it; JSON,
    /// Prometheus and events do not need it, and replay is faster without it).
    package var buildsTimeline = true
    /// Whether the report has the post-mortem sections (first failure, open and unhealthy
    /// periods, the incident's timeline): every format but events and Prometheus shows them.
    package var buildsPostMortem = true

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
        /// Lines and bytes of the events read, by kind.
        package var volume: [String: KindVolume] = [:]
        /// The first issues, in order.
        public var issues: [ReadIssue] = []

        /// Issues in all.
        public var issueCount: Int64 { issuesByKind.values.reduce(0, +) }
        /// Runs whose files were read (a `file.opened` header) but not their closing record
        /// (`file.closed`), when files were named rather than their directory: their newest
        /// events may be in a file not named (the segment being written stays plain, so
        /// `events-*.gz` or `zcat … | replay -` leaves it out), or the run is still writing or was
        /// killed. Sorted.
        package var runsWithoutClosingRecord: [String] = []
    }

    /// The result.
    public struct Report: Sendable {
        /// The fold of the kept events (runs count every event read, for loss accounting).
        public var summary = Summary()
        /// The kept events over time.
        public var timeline = Timeline()
        /// The input.
        public var input = InputAccount()
        /// How many workers read the input (several files, or one large file in ranges).
        public var workersUsed = 1
        /// What a post-mortem asks: the first failure, open and unhealthy periods, the
        /// incident's timeline (empty unless ``Replay/buildsPostMortem``).
        package var postMortem = PostMortemReport()
        /// Each `--slo` objective over the window (the caller evaluates them).
        package var objectives: [ObjectiveResult] = []
        /// The window beside a `--baseline` one (the caller replays both).
        package var comparison: Comparison?
    }

    /// How many files are read and folded at once when there are several: each worker on a
    /// core of its own, inflating gzip inline, and the parts merged (the merge is exact). A
    /// single file is read with gzip inflated on a second core instead.
    public var workers = Replay.defaultWorkers

    /// The machine's cores, at most 4.
    public static var defaultWorkers: Int {
        max(1, min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }

    /// Replays `inputs`. Kept events are also handed to `onEvent` (the `events` output; asking
    /// for them means decoding every event), merged in time order across the inputs'
    /// directories (``TimeOrderedMerge``; in the order read with `strict`);
    /// `onFile` is told when a file starts, and `onProgress` every 65,536 events read (for a
    /// progress display; from the calling thread).
    public func run(_ inputs: ReplayInputs, onEvent: ((Event) -> Void)? = nil,
                    onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)? = nil,
                    onProgress: ((_ eventsRead: Int64) -> Void)? = nil) throws(StrictReplayError) -> Report {
        var report = Report()
        for issue in inputs.issues {
            try take(issue, into: &report.input)
        }
        let files = Array(inputs.files.enumerated())
        var part: Part
        let inParallel = workers > 1 && !strict && onEvent == nil && !inputs.files.contains("-")
        if inParallel, files.count > 1, let parallel = foldInParallel(files, onFile: onFile, onProgress: onProgress) {
            part = parallel
        } else if inParallel, files.count == 1, let parallel = foldRangesInParallel(files[0], onFile: onFile, onProgress: onProgress) {
            part = parallel
        } else if let onEvent, !strict, !files.isEmpty {
            if let merged = foldMergedByTime(files, onEvent: onEvent) {
                part = merged
            } else {
                // Copies of a segment in two streams: the events went out once each; the report
                // comes from reading everything again in order, which counts each event once.
                part = Part()
                try fold(files, into: &part, reader: reader, onEvent: nil, onFile: nil, progress: { _ in })
            }
        } else {
            var sequential = Part()
            var nextProgress = Self.progressInterval
            try fold(files, into: &sequential, reader: reader, onEvent: onEvent, onFile: onFile) { read in
                guard read >= nextProgress else { return }
                nextProgress += Self.progressInterval
                onProgress?(read)
            }
            part = sequential
        }
        report.workersUsed = part.workers
        report.summary = part.summary
        report.timeline = part.timeline
        if buildsPostMortem { report.postMortem = part.postMortem.report(runs: part.summary.runs) }
        report.input.files += part.files
        report.input.eventsRead += part.eventsRead
        report.input.eventsKept += part.eventsKept
        report.input.volume = part.volume
        report.input.duplicateEvents += part.duplicates.duplicates
        report.input.issuesByKind.merge(part.issuesByKind)
        for issue in part.issues.map(\.issue) where report.input.issues.count < maxIssuesKept {
            report.input.issues.append(issue)
        }
        if inputs.namesFiles {
            report.input.runsWithoutClosingRecord = part.summary.runs.filter { $0.value.firstFileSeq != nil && $0.value.announcedHighest == 0 }
                .keys.sorted()
        }
        return report
    }

    /// What some files fold into (one worker's share, or every file).
    struct Part {
        var summary = Summary()
        var timeline = Timeline()
        var postMortem = PostMortem()
        var files = 0
        var eventsRead: Int64 = 0
        var eventsKept: Int64 = 0
        var issuesByKind: Tally = [:]
        var volume: [String: KindVolume] = [:]
        /// The first issues, with the index of their file (to merge parts in file order).
        var issues: [(file: Int, issue: ReadIssue)] = []
        var duplicates = DuplicateFilter()
        /// Lines read from the last file (the part of it, for a range).
        var lines = 0
        /// Workers whose parts were merged into this one.
        var workers = 1

        /// Adds another worker's part: its files all come after or between this part's, and
        /// the summaries merge exactly whatever the order.
        mutating func merge(_ other: Part, keepingIssues limit: Int) {
            summary.merge(other.summary)
            timeline.merge(other.timeline)
            postMortem.merge(other.postMortem)
            files += other.files
            eventsRead += other.eventsRead
            eventsKept += other.eventsKept
            issuesByKind.merge(other.issuesByKind)
            volume.add(other.volume)
            // Stable: each part's issues are in file order already.
            var merged = (issues + other.issues).enumerated().sorted { ($0.element.file, $0.offset) < ($1.element.file, $1.offset) }.map(\.element)
            if merged.count > limit { merged.removeLast(merged.count - limit) }
            issues = merged
        }
    }

    /// Folds `files` in order into `part`; `progress` hears the events read so far.
    func fold(_ files: some Sequence<(offset: Int, element: String)>, into part: inout Part, reader: LogReader,
                      range: Range<Int64>? = nil,
                      onEvent: ((Event) -> Void)?, onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                      progress: (Int64) -> Void) throws(StrictReplayError) {
        // The byte scanner folds what it can unless the events are wanted back or the filter
        // needs every kind's attrs (operations).
        var scanner = scansBytes && filter.operations.isEmpty && onEvent == nil
            ? LineScanner(buildsTimeline: buildsTimeline, buildsPostMortem: buildsPostMortem, filter: filter) : nil
        for (index, path) in files {
            if let onFile {
                var account = InputAccount()
                account.files = part.files
                account.eventsRead = part.eventsRead
                onFile(index, path, account)
            }
            part.files += 1
            var summary = Summary()
            var timeline = Timeline()
            var firstIssue: ReadIssue?
            var lineBytes = 0
            part.lines = reader.read(
                path, range: range,
                onLine: { line in
                    lineBytes = line.count + 1
                    let outcome = scanner?.fold(line, into: &summary, timeline: &timeline, postMortem: &part.postMortem,
                                                duplicates: &part.duplicates)
                    switch outcome {
                    case .folded?:
                        part.eventsKept += 1
                    case .duplicate?, .filteredOut?:
                        break
                    case .declined?, nil:
                        return false
                    }
                    part.eventsRead += 1
                    progress(part.eventsRead)
                    return true
                },
                onEvent: { event in
                    part.eventsRead += 1
                    part.volume[event.kind.rawValue, default: KindVolume()].add(lineOf: lineBytes)
                    progress(part.eventsRead)
                    if part.duplicates.isDuplicate(run: event.run, seq: event.seq) { return }
                    part.duplicates.insert(run: event.run, seq: event.seq)
                    guard filter.keeps(event) else {
                        summary.recordRun(event)
                        return
                    }
                    part.eventsKept += 1
                    summary.fold(event)
                    if buildsTimeline { timeline.record(event) }
                    if buildsPostMortem { part.postMortem.observe(event) }
                    onEvent?(event)
                },
                onIssue: { issue in
                    if firstIssue == nil { firstIssue = issue }
                    part.issuesByKind.add(issue.kind.rawValue)
                    if part.issues.count < maxIssuesKept { part.issues.append((index, issue)) }
                })
            scanner?.flush(into: &summary, volume: &part.volume)
            part.summary.merge(summary)
            part.timeline.merge(timeline)
            if strict, let firstIssue { throw StrictReplayError(issue: firstIssue) }
        }
    }

    /// A file this large or larger is read as ``workers`` ranges at once, when it can be cut.
    package var splitBytes: Int64 = 16 << 20

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
