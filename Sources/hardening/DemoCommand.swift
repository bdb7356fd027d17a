import ArgumentParser
import Foundation
import Hardening
import HardeningAgent
import HardeningDemo
import HardeningLog
import HardeningOTel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `hardening demo`: the main job, with nothing to set up.
struct DemoCommand: AsyncParsableCommand, StopsGracefully {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a RAG-like pipeline against fake dependencies with scripted faults, then compare the live summary with the replay of its logs.",
        discussion: """
            Starts four fake dependencies as real HTTP servers on 127.0.0.1 (a notes API, a vector \
            database, an LLM API, a reference manager) with scripted faults: latency spikes, 429 with \
            Retry-After, 503 bursts, an outage that opens the LLM breaker, and recovery. Questions go \
            through retry, breakers, a rate limiter, timeouts, fallbacks, timing and error tracking, \
            with the health monitor, alerts and configuration validation running alongside.

            Events go to stdout (readable on a terminal, JSON otherwise; --stdout) and to rotating gzip \
            files in --log-dir (the demo's own directory: cleared at each run, never one with other \
            files). A progress line goes to stderr every second. At the end it prints the summary, \
            replays the files and says whether the live summary and the replay are equal. SIGINT ends \
            the run early; the summary still follows.

            Exit codes: 0 the live summary equals the replay; 1 they differ or the demo failed; 64 usage error.
            """
    )

    @Option(help: "Seconds the workload runs.")
    var duration: Double = 20

    @Option(name: .customLong("log-dir"), help: "The demo's directory for rotating files.")
    var logDirectory = "./hardening-logs/demo"

    @Option(help: "auto (readable on a terminal, JSON otherwise), json, human, or off.")
    var stdout: DemoStdout = .auto

    @Option(name: .customLong("stdout-max-line-bytes"), help: ArgumentHelp(OutputOptions.stdoutMaxLineBytesHelp))
    var stdoutMaxLineBytes: Int = StdoutSink.defaultMaxLineBytes

    @Option(help: "Questions in flight at once.")
    var workers = 4

    @Option(help: "Seed of the fakes' noise.")
    var seed: UInt64 = 1

    @Option(help: "scripted (latency spikes, 429s, 503 bursts, an outage, hangs) or none (every dependency healthy: a steady service).")
    var faults: FaultsOption = .scripted

    @OptionGroup(title: "Volume (the production profile by default: --detail full writes one line per call and per probe)")
    var volume: VolumeOptions

    @Option(name: .customLong("dashboard-port"),
            help: "Serve the live dashboard on 127.0.0.1:PORT while the demo runs (0 picks a free port; the address goes to stderr).")
    var dashboardPort: Int?

    @Option(name: .customLong("otlp"),
            help: ArgumentHelp("Export the demo's traces, and its events as log records, over OTLP/HTTP to this collector (http://127.0.0.1:4318; OTEL_EXPORTER_OTLP_ENDPOINT alone does the same; the OTEL_* variables apply, OTEL_SDK_DISABLED=true turns it off).",
                               valueName: "url"))
    var otlpEndpoint: String?

    func validate() throws {
        guard duration >= 1, duration <= 3600, duration.isFinite else { throw ValidationError("--duration must be 1...3600 seconds.") }
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1...64.") }
        guard stdoutMaxLineBytes >= 512 else { throw ValidationError("--stdout-max-line-bytes must be at least 512.") }
        if let dashboardPort, !(0...65535).contains(dashboardPort) { throw ValidationError("--dashboard-port must be 0...65535.") }
        if let otlpEndpoint, !(otlpEndpoint.hasPrefix("http://") || otlpEndpoint.hasPrefix("https://")) {
            throw ValidationError("--otlp must be an http:// or https:// address, such as http://127.0.0.1:4318.")
        }
    }

    func run() async throws {
        var options = Demo.Options()
        options.duration = .milliseconds(Int64(duration * 1000))
        options.logDirectory = logDirectory
        options.workers = workers
        options.seed = seed
        options.faults = faults.faults
        options.volume = try volume.volume(defaultDetail: .production)
        options.stdoutLevel = volume.stdoutLevel.level
        options.fileLevel = volume.fileLevel.level
        options.stdout = stdout.format
        options.stdoutMaxLineBytes = stdoutMaxLineBytes
        options.dashboardPort = dashboardPort
        options.host = ProcessEnvironment.hostOverride
        options.onDashboard = { url in FileHandleStandardError.write("hardening demo: dashboard listening on \(url)\n") }
        var diagnostics: ExportDiagnostics?
        let environment = ProcessInfo.processInfo.environment
        // --otlp, or the standard variables alone; OTEL_SDK_DISABLED=true turns both off.
        var otlpEndpoint = self.otlpEndpoint ?? OTLPEnvironment.endpoint(in: environment)
        if otlpEndpoint != nil, OTLPEnvironment.disablesExport(environment) {
            FileHandleStandardError.write("hardening demo: OTEL_SDK_DISABLED=true: no OTLP export\n")
            otlpEndpoint = nil
        }
        if let otlpEndpoint {
            #if OTLP
            let export: OTLPExport
            do {
                export = try OTLPExport.make(serviceName: "rag-demo", endpoint: otlpEndpoint, signals: [.traces, .logs])
            } catch {
                FileHandleStandardError.write("hardening demo: cannot export over OTLP to \(otlpEndpoint): \(error)\n")
                throw ExitCode(64)
            }
            options.tracer = export.tracer
            if let logs = export.logHandlerFactory {
                // Export is best effort: its queue drops (counted) rather than hold the demo's lossless bus.
                options.extraSinks = [OTLPLogSink(logHandlerFactory: logs, instrument: export.tracer)]
            }
            options.tracingService = export.service
            options.onBus = { export.diagnostics.attach($0) }
            diagnostics = export.diagnostics
            FileHandleStandardError.write("hardening demo: exporting traces and events (as log records) to \(otlpEndpoint)\n")
            #else
            FileHandleStandardError.write("hardening demo: --otlp needs the OTLP trait, which this build leaves out\n")
            throw ExitCode(64)
            #endif
        }
        // Dimmed on a terminal, unless NO_COLOR is set (https://no-color.org) or TERM is dumb.
        let terminal = isatty(2) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        let result: Demo.Result
        do {
            result = try await Demo.run(options) { progress in
                let breakers = progress.breakers.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                let line = "[\(Int(progress.elapsed.seconds.rounded()))/\(Int(progress.duration.seconds.rounded())) s] "
                    + "answered \(progress.answered) in full and \(progress.degraded) with a fallback, failed \(progress.failed) | "
                    + "breakers: \(breakers) | health: \(progress.health)"
                FileHandleStandardError.write(terminal ? "\u{1B}[2m\(line)\u{1B}[0m\n" : line + "\n")
            }
        } catch {
            FileHandleStandardError.write("hardening demo: \(error)\n")
            throw ExitCode(1)
        }
        let out = OutputStream()
        out.write("\n" + result.replay.text)
        out.write("\nQuestions: \(result.answered) answered in full, \(result.degraded) more answered with a fallback, \(result.failed) failed.\n")
        let events = result.live.events
        if result.equal {
            out.write("Live summary (\(events) events) and the replay of \(logDirectory) (\(result.replay.input.files) files): equal ✅\n")
        } else {
            out.write("Live summary and the replay of \(logDirectory) differ in: \(result.differences.joined(separator: ", ")) ❌\n")
        }
        out.write("Replay them yourself: swift run hardening replay \(logDirectory)   (--format html -o report.html for charts)\n")
        out.close()
        if let counts = diagnostics?.counts, counts.totalFailedExports > 0 || !counts.dropped.isEmpty {
            FileHandleStandardError.write("hardening demo: OTLP export failed \(counts.totalFailedExports) time(s), "
                                          + "\(counts.dropped.values.reduce(0, +)) span(s) or record(s) dropped (see the swift-otel log.message events)\n")
        }
        if result.files.lostEvents > 0 {
            FileHandleStandardError.write("hardening demo: \(result.files.lostEvents) event(s) could not be written to \(logDirectory): "
                                          + "\(result.files.lastError ?? "the file sink failed")\n")
            throw ExitCode(1)
        }
        if !result.equal { throw ExitCode(1) }
    }
}

enum FaultsOption: String, ExpressibleByArgument, CaseIterable {
    case scripted, none

    var faults: DemoScript.Faults { self == .scripted ? .scripted : .none }
}

enum DemoStdout: String, ExpressibleByArgument, CaseIterable {
    case auto, json, human, off

    var format: StdoutSink.Format? {
        switch self {
        case .auto: .automatic(colors: true)
        case .json: .json
        case .human: .human(colors: true)
        case .off: nil
        }
    }
}
