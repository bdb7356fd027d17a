/// Runs health checks concurrently, each within its own time limit (a probe that does not answer
/// in time is unhealthy and says so), reports each as `health.probed`, and gives the overall
/// status of the round.
///
/// The limit cancels the probe's task: checks must stop on cancellation or bound themselves (the
/// built-in TCP and disk checks have their own time limits), since a round waits for every probe.
public struct HealthProber<C: Clock>: Sendable where C.Duration == Duration {
    /// One probed check.
    public struct Probe: Sendable, Hashable {
        /// The check's name.
        public var name: String
        /// Whether it is critical.
        public var isCritical: Bool
        /// What the probe found.
        public var result: HealthResult
    }

    /// The checks.
    public var checks: [any HealthCheck]
    /// The most a probe may take.
    public var timeout: Duration
    /// The clock of the time limit.
    public var clock: C
    /// Where `health.probed` goes.
    public var bus: EventBus?

    /// Creates a prober.
    public init(checks: [any HealthCheck], timeout: Duration = .seconds(5), clock: C, bus: EventBus? = nil) {
        self.checks = checks
        self.timeout = timeout
        self.clock = clock
        self.bus = bus
    }

    /// Probes every check once, concurrently; returns the probes in the checks' order.
    public func probeAll() async -> [Probe] {
        var probes = [Probe?](repeating: nil, count: checks.count)
        await withTaskGroup(of: (Int, Probe).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask {
                    (index, Probe(name: check.name, isCritical: check.isCritical, result: await probe(check)))
                }
            }
            for await (index, probe) in group { probes[index] = probe }
        }
        let done = probes.compactMap { $0 }
        for probe in done {
            bus?.emit(HealthProbed(check: probe.name, status: probe.result.status.rawValue, latencyMs: probe.result.latency.milliseconds,
                                   detail: probe.result.message, observed: probe.result.observed))
        }
        return done
    }

    /// One check against the time limit: whichever finishes first decides (a check that answers
    /// only once cancelled has timed out).
    private func probe(_ check: any HealthCheck) async -> HealthResult {
        let (limit, clock) = (timeout, self.clock)
        return await withTaskGroup(of: HealthResult?.self) { group in
            group.addTask {
                // A check that does not time itself (disk, sinks, config) gets the probe's own time.
                let start = clock.now
                var result = await check.check()
                if result.latency == .zero { result.latency = start.duration(to: clock.now) }
                return result
            }
            group.addTask {
                try? await clock.sleep(for: limit)
                return nil
            }
            let first = await group.next()!
            group.cancelAll()
            return first ?? HealthResult(status: .unhealthy, latency: limit, message: "no answer within \(limit.milliseconds) ms (timeout)")
        }
    }

    /// The overall status of `probes` (see ``HealthStatus/overall(_:)``).
    public static func overall(_ probes: [Probe]) -> HealthStatus {
        HealthStatus.overall(probes.map { ($0.isCritical, $0.result.status) })
    }
}

extension HealthProber where C == ContinuousClock {
    /// A prober on the continuous clock.
    public init(checks: [any HealthCheck], timeout: Duration = .seconds(5), bus: EventBus? = nil) {
        self.init(checks: checks, timeout: timeout, clock: ContinuousClock(), bus: bus)
    }
}
