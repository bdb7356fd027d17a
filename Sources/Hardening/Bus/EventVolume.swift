/// How much of what happens becomes a line: the detail of routine work and the level of each
/// kind. Sinks each keep their own minimum level (``EventSink/minimumLevel``).
///
/// The production detail, the default, writes what starts or ends something in full (a
/// transition, an alert, an error, an exhausted retry, a configuration result, a slow call, a
/// probe whose status changed, the first and the last of each repeated warning in a window) and
/// folds the rest into window events every ``windowInterval``: an operation's calls that
/// succeeded in time (`timing.window`), a check's probes that changed nothing (`health.window`),
/// the repeats of a warning between its first and last (`events.repeated`). A window holds exact
/// counts, sums, minimum, maximum and the latency histogram's buckets, so the files still
/// rebuild the live summary exactly. When a call fails, the routine calls of its trace that came
/// before it (the last ``contextEvents`` within ``contextAge``) are written in full just before
/// the failure, marked `in_window` (they are already counted in their window).
///
/// ```swift
/// var volume = EventVolume()                         // production: windows every 10 s
/// volume.kindLevels[.retrySucceeded] = .level(.notice)
/// volume.kindLevels[.healthProbed] = .off            // no probe at all, windows included
/// let bus = EventBus(configuration: .init(service: "rag", volume: volume), sinks: [StdoutSink(minimumLevel: .info)])
/// ```
///
/// ``full`` writes every event as it happens, one line per call and per probe.
public struct EventVolume: Sendable, Hashable {
    /// How much routine work is written.
    public enum Detail: String, Sendable, Hashable, CaseIterable {
        /// Routine calls, probes and repeated warnings are folded into window events.
        case production
        /// Every event is written as it happens.
        case full
    }

    /// The level events of a kind get, or none at all.
    public enum KindLevel: Sendable, Hashable {
        /// Every event of the kind gets this level.
        case level(EventLevel)
        /// No event of the kind is delivered (it takes no `seq`: it is not lost, it was not wanted).
        case off

        /// Parses `trace` … `critical` or `off`.
        public init?(name: some StringProtocol) {
            if name == "off" {
                self = .off
            } else if let level = EventLevel(name: name) {
                self = .level(level)
            } else {
                return nil
            }
        }

        /// `off`, or the level's name.
        public var name: String {
            switch self {
            case .off: "off"
            case .level(let level): level.name
            }
        }
    }

    /// How much routine work is written.
    public var detail: Detail
    /// How often the windows of the production detail are written (also when a file rotates, at
    /// ``EventBus/flush()`` and at shutdown).
    public var windowInterval: Duration
    /// The level of each kind named here (the level the producer gave is replaced), or `off`.
    /// Applies before the rollup: `timing.recorded: off` leaves no `timing.window` either, and
    /// the window kinds can be set too.
    public var kindLevels: [EventKind: KindLevel]
    /// How many routine events of one trace are kept to be written before its failure.
    public var contextEvents: Int
    /// How old a routine event may be and still be written before its trace's failure.
    public var contextAge: Duration
    /// How many routine events are kept for context in all, over every trace (the traces seen
    /// longest ago are forgotten first).
    public var contextCapacity: Int

    /// Creates a volume; the defaults are the production profile.
    public init(detail: Detail = .production, windowInterval: Duration = .seconds(10), kindLevels: [EventKind: KindLevel] = [:],
                contextEvents: Int = 64, contextAge: Duration = .seconds(30), contextCapacity: Int = 16_384) {
        self.detail = detail
        self.windowInterval = max(.milliseconds(10), windowInterval)
        self.kindLevels = kindLevels
        self.contextEvents = max(0, contextEvents)
        self.contextAge = max(.zero, contextAge)
        self.contextCapacity = max(0, contextCapacity)
    }

    /// The production profile (the default).
    public static let production = EventVolume()
    /// Every event as it happens: one line per call and per probe.
    public static let full = EventVolume(detail: .full)

    /// Whether the bus passes every event through unchanged.
    var passesEverything: Bool { detail == .full && kindLevels.isEmpty }
}
