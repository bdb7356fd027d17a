import ServiceLifecycle

/// Runs the health checks in the background on an interval (a `Service`) and keeps the last
/// round, so `/health` and the CLI read a snapshot and never probe per request.
///
/// A snapshot older than ``staleAfter`` is itself a failure: a stale "healthy" is never served.
/// Liveness says only that the process answers (it never touches a dependency, so a downstream
/// blip cannot cause a restart storm); readiness turns false as soon as graceful shutdown starts.
/// Status changes are `health.changed` events (per check and `overall`); every probe goes through
/// the alert rules.
public final class HealthMonitor<C: Clock>: Service, Sendable where C.Duration == Duration {
    /// What the monitor knows now.
    public struct Snapshot: Sendable {
        /// The last round's probes (empty before the first).
        public var probes: [HealthProber<C>.Probe]
        /// The overall status, `unhealthy` when stale or before the first round.
        public var overall: HealthStatus
        /// Why the overall status is what it is, when the probes do not say it.
        public var note: String?
        /// When the last round ended.
        public var takenAt: C.Instant?
        /// Rounds run so far.
        public var rounds: Int
    }

    private struct State {
        var probes: [HealthProber<C>.Probe] = []
        var takenAt: C.Instant?
        var rounds = 0
        var shuttingDown = false
        var lastStatus: [String: HealthStatus] = [:]
    }

    /// The checks and their time limit.
    public let prober: HealthProber<C>
    /// Time between rounds.
    public let interval: Duration
    /// A snapshot older than this is a failure.
    public let staleAfter: Duration
    /// Alert rules applied to every probe, if any.
    public let alerts: HealthAlerts?
    /// A probe slower than this is logged (a `log.message` warning); `nil`: never.
    public let slowProbe: Duration?
    private let bus: EventBus?
    private let wallClock: any WallClock
    private let state = Locked(State())

    /// Creates a monitor; `staleAfter` defaults to three intervals plus the probe time limit.
    public init(prober: HealthProber<C>, interval: Duration, staleAfter: Duration? = nil, alerts: HealthAlerts? = nil,
                bus: EventBus? = nil, wallClock: any WallClock = SystemWallClock(), slowProbe: Duration? = nil) {
        self.slowProbe = slowProbe
        self.prober = prober
        self.interval = interval
        self.staleAfter = staleAfter ?? interval * 3 + prober.timeout
        self.alerts = alerts
        self.bus = bus
        self.wallClock = wallClock
    }

    /// Probes every `interval` until graceful shutdown or cancellation.
    public func run() async throws {
        // Graceful shutdown turns readiness off at once and cancels the wait for the next round.
        await cancelWhenGracefulShutdown {
            await withGracefulShutdownHandler {
                while !Task.isCancelled && !self.state.withLock({ $0.shuttingDown }) {
                    await self.round()
                    try? await self.prober.clock.sleep(for: self.interval)
                }
            } onGracefulShutdown: {
                self.state.withLock { $0.shuttingDown = true }
            }
        }
    }

    /// Runs one round now (the loop's step; also for a CLI that probes once).
    public func round() async {
        let probes = await prober.probeAll()
        let now = prober.clock.now
        let time = wallClock.now()
        let overall = HealthProber<C>.overall(probes)
        let changes = state.withLock { state -> [HealthChanged] in
            state.probes = probes
            state.takenAt = now
            state.rounds += 1
            var changes: [HealthChanged] = []
            for (name, status, detail) in probes.map({ ($0.name, $0.result.status, $0.result.message) }) + [("overall", overall, "")] {
                let previous = state.lastStatus[name]
                state.lastStatus[name] = status
                if let previous, previous != status {
                    changes.append(HealthChanged(check: name, from: previous.rawValue, to: status.rawValue, detail: detail))
                }
            }
            return changes
        }
        for change in changes { bus?.emit(change) }
        if let slowProbe {
            for probe in probes where probe.result.latency > slowProbe {
                bus?.emit(LogMessage(logger: "hardening.health", source: "HealthMonitor",
                                     text: "slow probe: \(probe.name) took \(Int64(probe.result.latency.milliseconds.rounded())) ms (threshold \(Int64(slowProbe.milliseconds)) ms)"),
                          level: .warning)
            }
        }
        if let alerts {
            for probe in probes { alerts.observe(check: probe.name, status: probe.result.status, at: time) }
        }
    }

    /// The current snapshot; stale or missing rounds make it unhealthy.
    public var snapshot: Snapshot {
        let now = prober.clock.now
        return state.withLock { state in
            guard let takenAt = state.takenAt else {
                return Snapshot(probes: [], overall: .unhealthy, note: "no probe has run yet", takenAt: nil, rounds: 0)
            }
            let age = takenAt.duration(to: now)
            if age > staleAfter {
                return Snapshot(probes: state.probes, overall: .unhealthy,
                                note: "the last probes are \(Int64(age.milliseconds)) ms old (stale after \(Int64(staleAfter.milliseconds)) ms)",
                                takenAt: takenAt, rounds: state.rounds)
            }
            return Snapshot(probes: state.probes, overall: HealthProber<C>.overall(state.probes), note: nil, takenAt: takenAt,
                            rounds: state.rounds)
        }
    }

    /// The process answers: always true while it can run this code.
    public var isLive: Bool { true }

    /// Ready to take traffic: not shutting down, and the snapshot is fresh and not unhealthy.
    public var isReady: Bool {
        let shuttingDown = state.withLock { $0.shuttingDown }
        return !shuttingDown && snapshot.overall != .unhealthy
    }
}
