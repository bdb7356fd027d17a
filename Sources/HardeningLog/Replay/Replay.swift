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

    /// Runs `count` workers, each folding into a part of its own with an inline reader: worker 0
    /// on the calling thread (the only one that calls back), the others on threads of their own;
    /// progress adds up every worker's events read.
    private func foldOnWorkers(
        _ count: Int, onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
        onProgress: ((_ eventsRead: Int64) -> Void)?,
        _ fold: @escaping @Sendable (_ worker: Int, _ replay: Replay, _ reader: LogReader, _ part: inout Part,
                                     _ onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                                     _ progress: (Int64) -> Void) -> Void
    ) -> [Part?] {
        var inlineReader = self.reader
        inlineReader.inflatesInBackground = false
        let reader = inlineReader
        let read = Locked([Int64](repeating: 0, count: count))
        let results = Locked([Part?](repeating: nil, count: count))
        let replay = self
        @Sendable func work(_ worker: Int, onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                            onProgress: ((Int64) -> Void)?) {
            var part = Part()
            var reported: Int64 = 0
            fold(worker, replay, reader, &part, onFile) { eventsRead in
                guard eventsRead - reported >= Self.progressInterval else { return }
                reported = eventsRead
                let total = read.withLock { read -> Int64 in
                    read[worker] = eventsRead
                    return read.reduce(0, +)
                }
                onProgress?(total)
            }
            results.withLock { $0[worker] = part }
        }
        let threads = (1..<max(1, count)).map { worker in
            OSThread(name: "hardening-replay") { work(worker, onFile: nil, onProgress: nil) }
        }
        work(0, onFile: onFile, onProgress: onProgress)
        for thread in threads { thread.join() }
        return results.withLock { $0 }
    }

    /// Several files on ``workers`` threads (the calling thread is one), each folding one
    /// contiguous block of the files, in order, of about the same amount of work: the parts then
    /// meet at one cut each, which is what makes their merge exact (a breaker's open period
    /// that spans the cut is closed there, as between two files). `nil` when two workers folded
    /// the same event (copies of a segment in different blocks): the caller then reads
    /// everything in order, which counts each event once.
    private func foldInParallel(_ files: [(offset: Int, element: String)],
                                onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                                onProgress: ((_ eventsRead: Int64) -> Void)?) -> Part? {
        let blocks = Self.blocks(files.map(\.element), count: min(workers, files.count), fileSystem: reader.fileSystem)
        let results = foldOnWorkers(blocks.count, onFile: onFile, onProgress: onProgress) { worker, replay, reader, part, onFile, progress in
            // Strict replay never runs here: nothing throws.
            try? replay.fold(files[blocks[worker]], into: &part, reader: reader, onEvent: nil, onFile: onFile, progress: progress)
        }
        let parts = results.compactMap { $0 }
        for (index, part) in parts.enumerated() {
            for other in parts[(index + 1)...] where part.duplicates.overlaps(other.duplicates) { return nil }
        }
        var merged = parts[0]
        for part in parts.dropFirst() {
            merged.merge(part, keepingIssues: maxIssuesKept)
            merged.duplicates.add(part.duplicates)
        }
        merged.workers = parts.count
        return merged
    }

    /// A file this large or larger is read as ``workers`` ranges at once, when it can be cut.
    package var splitBytes: Int64 = 16 << 20

    /// One large file read as ``workers`` contiguous ranges at once, each cut where a gzip member
    /// begins (a gzip-stream file has one a flush) or after a newline (a plain file), each range
    /// inflated inline on its own core, the parts merged in order (exactly, as between two files)
    /// and the issues' line numbers and offsets made the file's own. `nil` when the file is small,
    /// cannot be cut, or a cut turns out not to be one (a member or a line cut short): the caller
    /// reads it in one piece.
    private func foldRangesInParallel(_ file: (offset: Int, element: String),
                                      onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                                      onProgress: ((_ eventsRead: Int64) -> Void)?) -> Part? {
        let path = file.element
        let fileSystem = reader.fileSystem
        guard let info = (try? fileSystem.info(path)) ?? nil, info.isRegularFile || info.isSymbolicLink, info.size >= splitBytes,
            let compressed = Self.isCompressed(path, fileSystem: fileSystem)
        else { return nil }
        var cuts: [Int64] = [0]
        for worker in 1..<workers {
            guard let cut = FileCut.find(in: path, fileSystem: fileSystem, compressed: compressed, from: info.size * Int64(worker) / Int64(workers)),
                cut > cuts.last!, cut < info.size
            else { break }
            cuts.append(cut)
        }
        guard cuts.count > 1 else { return nil }
        let ranges = zip(cuts, cuts.dropFirst() + [info.size]).map { $0..<$1 }
        let results = foldOnWorkers(ranges.count, onFile: onFile, onProgress: onProgress) { worker, replay, reader, part, onFile, progress in
            try? replay.fold(CollectionOfOne(file), into: &part, reader: reader, range: ranges[worker], onEvent: nil, onFile: onFile,
                             progress: progress)
        }
        var parts = results.compactMap { $0 }
        guard parts.count == ranges.count else { return nil }
        // A cut that was not one shows as a member or a line cut short before it, or as damage right after it.
        for (index, part) in parts.enumerated() {
            let cutShort = index < parts.count - 1 && part.issues.contains { [.truncatedGzip, .tornLine].contains($0.issue.kind) }
            let damagedStart = index > 0 && part.issues.contains { $0.issue.kind == .corruptGzip && ($0.issue.offset ?? -1) == 0 }
            if cutShort || damagedStart { return nil }
        }
        for (index, part) in parts.enumerated() {
            for other in parts[(index + 1)...] where part.duplicates.overlaps(other.duplicates) { return nil }
        }
        // Line numbers and offsets as the whole file's.
        var linesBefore = 0
        for index in parts.indices {
            let start = ranges[index].lowerBound
            parts[index].issues = parts[index].issues.map { entry in
                var issue = entry.issue
                if let line = issue.line { issue.line = line + linesBefore }
                if let offset = issue.offset { issue.offset = offset + start }
                return (entry.file, issue)
            }
            linesBefore += parts[index].lines
        }
        var merged = parts[0]
        for part in parts.dropFirst() {
            merged.merge(part, keepingIssues: maxIssuesKept)
            merged.duplicates.add(part.duplicates)
        }
        merged.files = 1
        merged.workers = parts.count
        return merged
    }

    /// Whether `path` starts as gzip does; `nil` when it cannot be read.
    private static func isCompressed(_ path: String, fileSystem: any FileSystem) -> Bool? {
        guard let descriptor = try? fileSystem.open(path, flags: O_RDONLY, mode: 0) else { return nil }
        defer { fileSystem.close(descriptor) }
        var head = [UInt8](repeating: 0, count: 3)
        guard let count = try? fileSystem.read(descriptor, into: &head, path: path), count > 0 else { return nil }
        return LogReader.looksCompressed(head[0..<count])
    }

    /// `paths` cut into `count` contiguous blocks of about the same work: bytes on disk, a
    /// compressed file (by name) counted ten times (what it inflates to, about). Each cut is the
    /// file boundary nearest its share of the total (the slowest block sets the time: ten
    /// segments and an active file split 5 + 6, not 6 + 5 by rounding up).
    static func blocks(_ paths: [String], count: Int, fileSystem: any FileSystem) -> [Range<Int>] {
        let weights = paths.map { path -> Int64 in
            let size = max(1, ((try? fileSystem.info(path)) ?? nil)?.size ?? 1)
            return path.hasSuffix(".gz") ? size * 10 : size
        }
        return blocks(weights: weights, count: count)
    }

    /// `weights` cut into at most `count` contiguous non-empty blocks, each cut at the boundary
    /// whose running total is nearest `total * block / count`.
    package static func blocks(weights: [Int64], count: Int) -> [Range<Int>] {
        guard !weights.isEmpty else { return [] }
        let blockCount = max(1, min(count, weights.count))
        var prefix: [Int64] = [0]
        for weight in weights { prefix.append(prefix.last! + weight) }
        let total = prefix.last!
        var cuts: [Int] = [0]
        for block in 1..<blockCount {
            let target = Double(total) * Double(block) / Double(blockCount)
            // Leave at least one file for each later block.
            let candidates = (cuts.last! + 1)...(weights.count - (blockCount - block))
            let cut = candidates.min { abs(Double(prefix[$0]) - target) < abs(Double(prefix[$1]) - target) }!
            cuts.append(cut)
        }
        cuts.append(weights.count)
        return zip(cuts, cuts.dropFirst()).map { $0..<$1 }
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
