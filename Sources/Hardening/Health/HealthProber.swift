import Instrumentation
import Tracing

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
    ///
    /// With a tracer on the bus each probe is a client span `health <check>` (its status and
    /// latency as attributes, failed when unhealthy), and its `health.probed` event carries that
    /// span's ids.
    public func probeAll() async -> [Probe] {
        var probes = [(probe: Probe, trace: TraceContext?)?](repeating: nil, count: checks.count)
        let spans = HardeningSpans(bus)
        await withTaskGroup(of: (Int, Probe, TraceContext?).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask {
                    guard let spans else {
                        return (index, Probe(name: check.name, isCritical: check.isCritical, result: await probe(check)), nil)
                    }
                    return await tracedProbe(check, index: index, spans)
                }
            }
            for await (index, probe, trace) in group { probes[index] = (probe, trace) }
        }
        let done = probes.compactMap { $0 }
        for (probe, trace) in done {
            bus?.emit(HealthProbed(check: probe.name, status: probe.result.status.rawValue, latencyMs: probe.result.latency.milliseconds,
                                   detail: probe.result.message, observed: probe.result.observed),
                      traceID: trace?.traceID, spanID: trace?.spanID)
        }
        return done.map(\.probe)
    }

    /// One probe in its span.
    private func tracedProbe(_ check: any HealthCheck, index: Int, _ spans: HardeningSpans) async -> (Int, Probe, TraceContext?) {
        let attributes: SpanAttributes = [
            "hardening.health.check": .string(check.name), "hardening.health.critical": .bool(check.isCritical),
        ]
        return await spans.run("health \(check.name)", kind: .client, attributes: attributes) { span in
            let result = await probe(check)
            span.attributes["hardening.health.status"] = result.status.rawValue
            span.attributes["hardening.health.latency_ms"] = result.latency.milliseconds
            if result.status == .unhealthy { spans.fail(span, result.message) }
            return (index, Probe(name: check.name, isCritical: check.isCritical, result: result), ServiceContext.current?.traceContext)
        }
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
