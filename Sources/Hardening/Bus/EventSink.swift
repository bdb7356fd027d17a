/// Where delivered events go: stdout, rotating files, an in-memory list, a summary.
///
/// The ``EventBus`` calls every method of a sink from that sink's own thread, in order, never
/// concurrently, so a sink may do blocking I/O in them (a slow one holds up only itself) and
/// needs no lock for state only these methods touch.
/// A sink never throws: it reports its own failures through ``SinkContext/report(_:level:)``, counts
/// what it could not write, and keeps trying.
public protocol EventSink: AnyObject, Sendable {
    /// A short name for reports (`stdout`, `file:/var/log/app`).
    var name: String { get }

    /// The lowest level the sink takes: the bus never hands it an event below (read once, when
    /// the bus starts). Default `trace`: every event. A file sink that leaves levels out no
    /// longer rebuilds the live summary, and its holes in `seq` are not losses: it says so in
    /// its files (`file.opened`'s `min_level`).
    var minimumLevel: EventLevel { get }

    /// Whether the sink keeps the record (the files, the live summary): the bus never gives up
    /// on it for being slow, however busy the machine (under the default policy the drain waits
    /// while it writes, and the bus's own policy applies to the producers); only its own failing
    /// writes lose events, and it counts those. Default `false`: a sink that takes nothing for
    /// ``EventBus/Configuration/sinkStallTimeout`` is dropped for, and one that is slow while
    /// the bus drops is dropped for before the bus drops for every sink (standard output).
    var isDurable: Bool { get }

    /// Called once before the first batch.
    func start(context: SinkContext)

    /// Takes a batch of delivered events, in `seq` order.
    func write(_ events: [Event])

    /// Makes everything written so far durable to the sink's standard (written to the OS, a
    /// gzip member finished, fsynced if the sink's policy says so).
    func flush()

    /// Called at least every ``EventBus/Configuration/tickInterval`` with the clock's time, for
    /// time-based work: flush intervals, rotation by age, delayed compression.
    func tick(now: Timestamp)

    /// Flushes and releases resources; no call follows.
    func close()
}

extension EventSink {
    public var minimumLevel: EventLevel { .trace }
    public var isDurable: Bool { false }
    public func start(context: SinkContext) {}
    public func tick(now: Timestamp) {}
}

/// What the bus hands a sink: a way to report its own events and the bus's clock.
public struct SinkContext: Sendable {
    private let reporter: @Sendable (Event) -> Void
    /// The clock the bus uses.
    public let clock: any WallClock
    /// The run id of the bus.
    public let run: String
    /// The service name of the bus.
    public let service: String
    /// The host name of the bus.
    public let host: String

    /// Creates a context. The bus makes one; tests may too.
    public init(clock: any WallClock, run: String, service: String, host: String, reporter: @escaping @Sendable (Event) -> Void) {
        self.clock = clock
        self.run = run
        self.service = service
        self.host = host
        self.reporter = reporter
    }

    /// Reports an event about the sink itself (`sink.failed`, `file.rotated`, …) onto the bus.
    /// Never blocks, whatever the overflow policy.
    public func report<P: EventPayload>(_ payload: P, level: EventLevel? = nil) {
        reporter(Event(timestamp: clock.now(), level: level ?? payload.defaultLevel, kind: P.kind,
                       message: payload.message, attrs: payload.attributes))
    }
}
