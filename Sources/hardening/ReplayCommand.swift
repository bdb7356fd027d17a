import ArgumentParser
import Hardening
import HardeningAgent
import HardeningLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `hardening replay` (alias `replay-events`): folds log files back into the summaries the live
/// process showed, for post-mortems.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild summaries from event logs (files, directories, globs, - for stdin; plain or gzip).",
        discussion: """
            Directories are read recursively, rotated segments oldest first; gzip is recognised by \
            its magic bytes; several runs and hosts are merged. Damaged input (torn lines, \
            truncated or corrupt gzip, garbage, over-long lines) is reported with file and line \
            and skipped; --strict makes it fatal.

            Formats: text (tables), json (the Summary, plus an "input" key), prometheus (text \
            exposition), html (one self-contained page with charts), events (the kept events as \
            JSON lines, for jq or an agent).

            Exit codes: 0 report written (input issues, if any, are in it); 1 no input could be \
            read, the input held no event (only damaged or foreign lines), or no event matched the \
            filters (the report is still written, and stderr says which); 2 --strict and the input \
            was damaged or unreadable; 64 usage error.
            """,
        aliases: ["replay-events"]
    )

    @Argument(help: "Files, directories, globs, or - for standard input.")
    var inputs: [String] = []

    @Option(help: "text, json, prometheus, html or events.")
    var format: ReplayFormat = .text

    @Option(name: .shortAndLong, help: "Write the output to this file instead of standard output.")
    var output: String?

    @Option(help: "Only events at or after this time: RFC 3339 (2026-11-29T10:00:00Z) or an age (90s, 15m, 2h, 7d).")
    var since: String?

    @Option(help: "Only events before this time (same forms as --since).")
    var until: String?

    @Option(help: "Only events of this service (repeatable).")
    var service: [String] = []

    @Option(help: "Only events of this host (repeatable).")
    var host: [String] = []

    @Option(name: [.customLong("kind"), .customLong("event")],
            help: "Only events of this kind (--event is the same); a trailing * matches a prefix (breaker.*). Repeatable.")
    var events: [String] = []

    @Option(help: "Only events about this operation, breaker, check, bulkhead or limiter (repeatable).")
    var operation: [String] = []

    @Option(help: "Only events at this level or more severe (trace, debug, info, notice, warning, error, critical).")
    var level: EventLevel?

    @Option(name: .customLong("trace-id"), help: "Only events of this trace: one request's whole path, on every host (repeatable).")
    var traceIDs: [String] = []

    @Option(name: .customLong("run"), help: "Only events of this run (a process start; the runs table lists them). Repeatable.")
    var runs: [String] = []

    @Option(name: .customLong("slo"), help: ArgumentHelp(
        "An objective to measure: OP=99.9% (availability) or OP:p99<300ms (latency). Repeatable.",
        discussion: "The report gives each one's bad calls, burn rate (1x spends the budget exactly over the period) and the share of the period's error budget the window spent."))
    var objectives: [String] = []

    @Option(name: .customLong("slo-period"), help: "The period an objective's error budget covers: 30d, 7d, 1h… (default: the --config file's objective_period, else 30d)")
    var objectivePeriod: String?

    @Option(name: .customLong("config"), help: "An agent configuration file whose objectives (and objective_period) to measure, besides any --slo.")
    var configFile: String?

    @Option(help: ArgumentHelp("Put a second window beside the selected one: SINCE..UNTIL, each as --since takes them (2h..1h, or RFC 3339).",
                               discussion: "Each operation's rate, error ratio, p50 and p99 in both windows, and the change."))
    var baseline: String?

    @Flag(help: "Stop with exit code 2 at the first damaged or unreadable input.")
    var strict = false

    @Option(help: "How many files (or ranges of one large file) are read at once (default: the cores, at most 4).")
    var workers: Int?

    @Flag(inversion: .prefixedNo, help: "Show progress on standard error (default: when it is a terminal and the input is large).")
    var progress: Bool?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be 1 or more.") }
        guard !inputs.isEmpty else {
            throw ValidationError("Name the logs to replay: files, directories, globs, or - for standard input.")
        }
        _ = try filter()
        _ = try parsedObjectives()
        _ = try baselineWindow()
    }

    func parsedObjectives() throws -> (objectives: [Objective], periodSeconds: Double) {
        var objectives = try self.objectives.map { text in
            do throws(ObjectiveError) { return try Objective(parsing: text) } catch { throw ValidationError("--slo: \(error)") }
        }
        var period = 30.0 * 86_400
        if let configFile {
            do throws(AgentConfigurationError) {
                let declared = try AgentConfiguration.objectives(inFile: configFile)
                objectives += declared.objectives
                period = Double(declared.period.components.seconds) + Double(declared.period.components.attoseconds) / 1e18
            } catch {
                throw ValidationError("--config: \(error)")
            }
        }
        if let objectivePeriod {
            guard let seconds = TimeArgument.seconds(objectivePeriod), seconds > 0 else {
                throw ValidationError("--slo-period \(objectivePeriod): expected a duration such as 30d, 7d or 12h")
            }
            period = seconds
        }
        return (objectives, period)
    }

    func baselineWindow() throws -> Comparison.Window? {
        guard let baseline else { return nil }
        let now = SystemWallClock().now()
        guard let dots = baseline.firstRange(of: ".."), let since = TimeArgument.parse(String(baseline[..<dots.lowerBound]), now: now),
            let until = TimeArgument.parse(String(baseline[dots.upperBound...]), now: now)
        else {
            throw ValidationError("--baseline \(baseline): expected SINCE..UNTIL, each RFC 3339 or an age, such as 2h..1h")
        }
        guard since < until else { throw ValidationError("--baseline \(baseline): SINCE must come before UNTIL") }
        return Comparison.Window(since: since, until: until)
    }

    func filter() throws -> ReplayFilter {
        var filter = ReplayFilter()
        let now = SystemWallClock().now()
        if let since {
            guard let time = TimeArgument.parse(since, now: now) else { throw ValidationError("--since \(since): not RFC 3339 and not an age like 2h") }
            filter.since = time
        }
        if let until {
            guard let time = TimeArgument.parse(until, now: now) else { throw ValidationError("--until \(until): not RFC 3339 and not an age like 2h") }
            filter.until = time
        }
        filter.services = Set(service)
        filter.hosts = Set(host)
        filter.kinds = events
        filter.operations = Set(operation)
        filter.minimumLevel = level
        filter.traceIDs = Set(traceIDs.map { $0.lowercased() })
        filter.runs = Set(runs)
        return filter
    }

    func run() throws {
        let inputs = ReplayInputs(self.inputs)
        var replay = Replay(filter: try filter(), strict: strict)
        if let workers { replay.workers = workers }
        replay.buildsTimeline = format == .text || format == .html
        replay.buildsPostMortem = format == .text || format == .html || format == .json
        let out = try output.map { try OutputStream(path: $0) } ?? OutputStream()
        defer { out.close() }
        let progress = ProgressLine(enabled: self.progress ?? ProgressLine.worthShowing(for: inputs.files), files: inputs.files.count)
        let encoder = JSONLineEncoder(maxLineBytes: 16 << 20)
        var report: Replay.Report
        do {
            // Only `--format events` needs the events back: every other format takes the byte
            // scanner's fast path, and progress counts without decoding.
            let onEvent: ((Event) -> Void)? = format == .events ? { event in out.write(bytes: encoder.encode(event)) } : nil
            report = try replay.run(
                inputs, onEvent: onEvent,
                onFile: { index, path, account in progress.file(index, path, eventsRead: account.eventsRead) },
                onProgress: { progress.read($0) })
        } catch {
            progress.finish()
            out.close()
            FileHandleStandardError.write("hardening replay: \(error)\n")
            throw ExitCode(2)
        }
        progress.finish()
        try addObjectivesAndBaseline(to: &report, inputs: inputs, replay: replay)
        switch format {
        case .events: break
        case .json: out.write(report.json.jsonText + "\n")
        case .text: out.write(TerminalText.safe(report.text))
        case .prometheus: out.write(report.prometheusText)
        case .html: out.write(report.html)
        }
        out.flush()
        if let failed = out.failed, failed != EPIPE {
            FileHandleStandardError.write("hardening replay: cannot write the output: \(String(cString: strerror(failed)))\n")
            throw ExitCode(1)
        }
        if report.input.files == 0 || (report.input.eventsRead == 0 && report.input.issuesByKind["unreadable"] != nil) {
            FileHandleStandardError.write("hardening replay: no input could be read\n")
            for issue in report.input.issues { FileHandleStandardError.write("  \(issue)\n") }
            throw ExitCode(1)
        }
        // Mistakes that would look like success: input that holds no event, and filters that
        // matched none of those read.
        if report.input.eventsRead == 0 {
            FileHandleStandardError.write("hardening replay: the input holds no event (\(report.input.issueCount) line(s) that are not events): "
                                          + "is it a log of ours?\n")
            for issue in report.input.issues.prefix(3) { FileHandleStandardError.write("  \(issue)\n") }
            throw ExitCode(1)
        }
        if report.input.eventsKept == 0 {
            FileHandleStandardError.write("hardening replay: no event matched the filters (\(report.input.eventsRead) read)\n")
            throw ExitCode(1)
        }
        // Said on stderr whatever the format (the text report says it too): `zcat
        // logs/*.gz | hardening replay -` leaves out the plain segment being written.
        for run in report.input.runsWithoutClosingRecord {
            FileHandleStandardError.write("hardening replay: run \(run) has no closing record in the input: its newest events may be in a "
                                          + "file not named (the plain segment being written); replay the directory to read every file\n")
        }
    }
}

extension ReplayCommand {
    /// The `--slo` objectives over the selected window, and the `--baseline` window replayed
    /// beside it (a second pass over the inputs, with the baseline's times).
    private func addObjectivesAndBaseline(to report: inout Replay.Report, inputs: ReplayInputs, replay: Replay) throws {
        let (objectives, period) = try parsedObjectives()
        let window = Comparison.window(of: report.summary, since: replay.filter.since, until: replay.filter.until)
        report.objectives = objectives.map { ObjectiveResult($0, summary: report.summary, windowSeconds: window?.seconds ?? 0, periodSeconds: period) }
        guard let baseline = try baselineWindow(), let window else { return }
        var earlier = replay
        earlier.filter.since = baseline.since
        earlier.filter.until = baseline.until
        earlier.buildsTimeline = false
        earlier.buildsPostMortem = false
        let before = try earlier.run(inputs)
        report.comparison = Comparison(selected: window, summary: report.summary, baseline: baseline, baselineSummary: before.summary)
    }
}

/// The output formats of `replay`.
enum ReplayFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, prometheus, html, events
}

extension EventLevel: ExpressibleByArgument {}

/// A progress line on standard error, redrawn in place.
final class ProgressLine {
    private let enabled: Bool
    private let files: Int
    private var events: Int64 = 0
    private var fileIndex = 0
    private var drawn = false

    init(enabled: Bool, files: Int) {
        self.enabled = enabled
        self.files = files
    }

    /// Worth showing: standard error is a terminal and there are more than 64 MiB to read.
    static func worthShowing(for files: [String]) -> Bool {
        guard isatty(2) == 1 else { return false }
        var total: Int64 = 0
        for file in files where file != "-" {
            var info = stat()
            if stat(file, &info) == 0 { total += Int64(info.st_size) }
        }
        return total > 64 << 20 || files.contains("-")
    }

    func file(_ index: Int, _ path: String, eventsRead: Int64) {
        fileIndex = index + 1
        events = eventsRead
        draw()
    }

    func read(_ read: Int64) {
        events = read
        draw()
    }

    private func draw() {
        guard enabled else { return }
        drawn = true
        FileHandleStandardError.write("\r\u{1B}[Kreplaying file \(fileIndex)/\(files), \(events) events")
    }

    func finish() {
        if drawn { FileHandleStandardError.write("\r\u{1B}[K") }
    }
}
