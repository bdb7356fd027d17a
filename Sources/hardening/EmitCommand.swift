import ArgumentParser
import Hardening
import HardeningAgent
import HardeningLog
import Logging
import ServiceLifecycle
import UnixSignals

/// `hardening emit`: every line on standard input becomes an event on the bus, written to the
/// configured sinks (redacted like every event).
struct EmitCommand: AsyncParsableCommand, StopsGracefully {
    static let configuration = CommandConfiguration(
        commandName: "emit",
        abstract: "Emit each line of standard input as an event through the bus to the sinks.",
        discussion: """
            For shell scripts and cron jobs. A JSON object becomes an event: its "event" (the kind; \
            default log.message), "level" (default info), "message" and "attrs", every other key \
            added to the attrs. Any other line becomes a log.message whose message is the line. A \
            line that looks like an event but cannot be one (broken JSON, a wrong type, a file.*, \
            bus.* or sink.* kind) is reported on stderr with its line number and still emitted, as \
            text: nothing read is dropped. Secrets are redacted as in every event.

            Sinks: --log-dir (rotating files, with the same file flags as generate), --stdout, or \
            --config with an agent YAML file (its events section, service and secrets).

            EOF ends it with every event written; SIGTERM or SIGINT stop it the same way, the \
            lines read so far all written. Exit codes: 0 every line written; 1 events were lost \
            (a sink failed) or the configuration has problems; 64 usage error.
            """
    )

    @OptionGroup(title: "Output")
    var output: OutputOptions

    @Option(help: "An agent configuration file (YAML): its events section gives the sinks, its secrets are redacted.")
    var config: String?

    @Option(help: "The service field of the events (default: the configuration's service, else hardening-emit).")
    var service: String?

    @OptionGroup(title: "Files")
    var files: FileSinkOptions

    @OptionGroup(title: "Volume (emit writes every event it reads unless --detail production, or the configuration's events.detail)")
    var volume: VolumeOptions

    func validate() throws {
        guard output.logDirectory != nil || output.stdout || config != nil else {
            throw ValidationError("Give --log-dir DIR, --stdout or --config FILE: the events need somewhere to go.")
        }
    }

    func run() async throws {
        var sinks: [any EventSink] = []
        var fileSink: RotatingFileSink?
        var secrets: [String] = []
        var serviceName = service ?? "hardening-emit"
        var eventVolume = try volume.volume(defaultDetail: .full)
        if let config {
            let loaded: AgentConfiguration
            do {
                loaded = try AgentConfiguration.load(path: config, environment: ProcessEnvironment.current)
            } catch let error as AgentConfigurationError {
                FileHandleStandardError.write("hardening emit: \(error)\n")
                throw ExitCode(1)
            }
            secrets = loaded.secrets + loaded.validation.allRules.filter(\.isSecret).compactMap { loaded.sources.value(of: $0.key)?.value }
            if service == nil { serviceName = loaded.service }
            // The configuration's volume, unless a flag says otherwise.
            if volume.detail == nil {
                let flagged = eventVolume.kindLevels
                eventVolume = loaded.events.volume
                eventVolume.kindLevels.merge(flagged) { _, flag in flag }
            }
            if let files = loaded.events.files, output.logDirectory == nil {
                try FileSinkOptions.refuseIfWritten(files, command: "emit")
                let sink = RotatingFileSink(configuration: files)
                fileSink = sink
                sinks.append(sink)
            }
            if !output.stdout, let format = StdoutFormatOption(agentSetting: loaded.events.stdout) {
                sinks.append(StdoutSink(format: format.format, maxLineBytes: output.stdoutMaxLineBytes,
                                        minimumLevel: max(loaded.events.stdoutLevel, volume.stdoutLevel.level)))
            }
        }
        if let logDirectory = output.logDirectory {
            let configuration = files.configuration(directory: logDirectory, minimumLevel: volume.fileLevel.level)
            try FileSinkOptions.refuseIfWritten(configuration, command: "emit")
            let sink = RotatingFileSink(configuration: configuration)
            fileSink = sink
            sinks.append(sink)
        }
        if let stdoutSink = output.stdoutSink(minimumLevel: volume.stdoutLevel.level) { sinks.append(stdoutSink) }
        let bus = EventBus(configuration: output.busConfiguration(service: serviceName, overflow: .block,
                                                                  redactor: Redactor(knownSecrets: secrets), volume: eventVolume),
                           sinks: sinks)
        let reader = StandardInputEmitter(bus: bus) { problem in FileHandleStandardError.write("hardening emit: \(problem)\n") }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: bus), .init(service: reader, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "hardening.emit", factory: { _ in SwiftLogNoOpLogHandler() })
        ))
        try await group.run()
        let counts = reader.counts
        var line = "hardening emit: \(counts.lines) line(s) read, \(counts.events) event(s) emitted, \(counts.problems) emitted as text after a problem"
        if let fileSink {
            let statistics = fileSink.statistics
            line += "; written \(statistics.writtenEvents), lost \(statistics.lostEvents)"
        }
        line += OutputOptions.sinkLosses(bus)
        FileHandleStandardError.write(line + "\n")
        if let fileSink { try FileSinkOptions.failIfLost(fileSink, command: "emit") }
    }
}

extension StdoutFormatOption {
    /// The agent YAML's `events.stdout` (`off`: no stdout sink).
    init?(agentSetting: String) {
        switch agentSetting {
        case "json": self = .json
        case "human": self = .human
        case "auto": self = .auto
        default: return nil
        }
    }
}
