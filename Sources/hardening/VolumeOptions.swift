import ArgumentParser
import Hardening

/// How much becomes a line, for `demo`, `generate` and `emit`: the detail of routine work, the
/// window, each kind's level, and the minimum level of standard output and of the files. The
/// agent's YAML has the same under `events:` (`detail`, `window`, `kinds`, `stdout_level`,
/// `file_level`).
struct VolumeOptions: ParsableArguments {
    @Option(help: """
        production (routine calls, unchanged health probes and repeated warnings folded into window events: \
        timing.window, health.window, events.repeated; what starts or ends something written in full, with the \
        routine events of a failing trace before it) or full (one line per call and per probe). The default is \
        the command's: production for demo, full for generate and emit.
        """)
    var detail: DetailOption?

    @Option(help: "Seconds a window of the production detail lasts (also ended by a rotation and at exit).")
    var window: Double = 10

    @Option(name: .customLong("kind-level"), help: ArgumentHelp("""
        Give every event of KIND this level, or turn the kind off (it takes no seq: not a loss). Repeatable: \
        --kind-level retry.succeeded=notice --kind-level health.probed=off.
        """, valueName: "kind=level|off"))
    var kindLevels: [String] = []

    @Option(name: .customLong("stdout-level"), help: "The lowest level written to standard output (default trace: every event).")
    var stdoutLevel: LevelOption = .trace

    @Option(name: .customLong("file-level"), help: """
        The lowest level written to the files (default trace: every event). Higher, replay no longer rebuilds the \
        live summary; each file's header says so and replay counts the holes as below the level, not lost.
        """)
    var fileLevel: LevelOption = .trace

    func validate() throws {
        guard window >= 0.01, window <= 86_400, window.isFinite else { throw ValidationError("--window must be 0.01...86400 seconds.") }
        _ = try parsedKindLevels()
    }

    /// The volume, with `detail` when `--detail` was not given.
    func volume(defaultDetail: EventVolume.Detail) throws -> EventVolume {
        EventVolume(detail: detail?.detail ?? defaultDetail, windowInterval: .milliseconds(Int64((window * 1000).rounded())),
                    kindLevels: try parsedKindLevels())
    }

    private func parsedKindLevels() throws -> [EventKind: EventVolume.KindLevel] {
        var levels: [EventKind: EventVolume.KindLevel] = [:]
        for text in kindLevels {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, EventKind.isWellFormed(parts[0]) else {
                throw ValidationError("--kind-level '\(text)': give KIND=LEVEL, a dotted kind such as retry.succeeded=notice.")
            }
            guard let level = EventVolume.KindLevel(name: parts[1]) else {
                throw ValidationError("--kind-level '\(text)': '\(parts[1])' is not trace, debug, info, notice, warning, error, critical or off.")
            }
            levels[EventKind(parts[0])] = level
        }
        return levels
    }
}

enum DetailOption: String, ExpressibleByArgument, CaseIterable {
    case production, full

    var detail: EventVolume.Detail { self == .production ? .production : .full }
}

enum LevelOption: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: EventLevel { EventLevel(rawValue: rawValue)! }
}
