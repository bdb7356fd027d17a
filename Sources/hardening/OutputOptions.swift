import ArgumentParser
import Hardening
import HardeningLog

/// Where `generate` and `emit` send events besides the files' own settings: the directory,
/// standard output, and how long a stalled sink may hold shutdown.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("log-dir"), help: "Write rotating files into this directory.")
    var logDirectory: String?

    @Flag(help: "Write events to standard output.")
    var stdout = false

    @Option(name: .customLong("stdout-format"), help: "json (one object a line), human (readable; coloured on a terminal unless NO_COLOR is set or TERM=dumb), or auto (human on a terminal, json otherwise).")
    var stdoutFormat: StdoutFormatOption = .json

    @Option(name: .customLong("stdout-max-line-bytes"), help: ArgumentHelp(OutputOptions.stdoutMaxLineBytesHelp))
    var stdoutMaxLineBytes: Int = StdoutSink.defaultMaxLineBytes

    @Option(name: .customLong("stdout-overflow"), help: """
        What standard output's own queue does when its reader falls behind: block, drop-newest or drop-oldest. \
        By default the events wait while the reader reads, and standard output drops its own once it has read \
        nothing for 2 s. Its drops are its own: the files still get every event.
        """)
    var stdoutOverflow: OverflowOption?

    @Option(name: .customLong("shutdown-timeout"), help: """
        Seconds SIGTERM, SIGINT or the end of input may take: a sink still stalled then (standard output that \
        nobody reads) is given up, and what it did not write is reported.
        """)
    var shutdownTimeout: Double = 10

    /// The help of `--stdout-max-line-bytes` (here and in `demo`).
    static let stdoutMaxLineBytesHelp = """
        The longest line on standard output, newline included (at least 512): a longer event is shortened and \
        marked truncated. 16384 by default, so that container runtimes (Docker, containerd) never split a line.
        """

    func validate() throws {
        guard shutdownTimeout > 0, shutdownTimeout.isFinite else { throw ValidationError("--shutdown-timeout must be more than 0 seconds.") }
        guard stdoutMaxLineBytes >= 512 else { throw ValidationError("--stdout-max-line-bytes must be at least 512.") }
    }

    /// The stdout sink, if asked for, writing `minimumLevel` and above.
    func stdoutSink(minimumLevel: EventLevel) -> StdoutSink? {
        stdout ? StdoutSink(format: stdoutFormat.format, maxLineBytes: stdoutMaxLineBytes, minimumLevel: minimumLevel) : nil
    }

    /// The bus's configuration with these options' queue policy and shutdown timeout.
    func busConfiguration(service: String, capacity: Int = 65_536, overflow: OverflowPolicy,
                          redactor: Redactor? = Redactor(), volume: EventVolume) -> EventBus.Configuration {
        var configuration = EventBus.Configuration(service: service, host: ProcessEnvironment.hostOverride, capacity: capacity,
                                                   overflowPolicy: overflow, redactor: redactor, volume: volume)
        if let stdoutOverflow { configuration.sinkOverflowPolicies["stdout"] = stdoutOverflow.policy }
        configuration.shutdownTimeout = .milliseconds(Int64((shutdownTimeout * 1000).rounded()))
        return configuration
    }

    /// What sinks' own queues dropped or left unwritten, for the stderr summary line ("" when
    /// nothing).
    static func sinkLosses(_ bus: EventBus) -> String {
        var text = ""
        for sink in bus.sinkStatistics {
            if sink.dropped > 0 { text += "; \(sink.name) dropped \(sink.dropped) (its queue was full)" }
            if sink.isAbandoned {
                text += "; \(sink.name) given up at the shutdown timeout, \(sink.abandoned) event(s) not written"
            }
        }
        return text
    }
}
