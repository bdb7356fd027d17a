import Hardening
import HardeningTestKit
import HardeningTestSupport
import ServiceLifecycleTestKit
import Testing

/// A check whose status the test sets.
private final class ScriptedCheck: HealthCheck {
    let name = "pinecone"
    let isCritical = true
    private let status = Locked(HealthStatus.healthy)

    func set(_ value: HealthStatus) { status.withLock { $0 = value } }

    func check() async -> HealthResult {
        let now = status.withLock { $0 }
        return HealthResult(status: now, message: now == .healthy ? "ok" : "index unreachable")
    }
}

@Suite struct HealthMonitorTests {
    private func waitFor(_ condition: () -> Bool) async {
        var pause = PoolFriendlyPause()
        for _ in 0..<200_000 where !condition() { await pause.pause() }
    }

    @Test func roundsOnAnIntervalChangesStalenessAndReadinessOnShutdown() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [sink])
        let check = ScriptedCheck()
        let alerts = HealthAlerts(rules: [AlertRule(name: "down", trigger: .consecutiveFailures(1), resolveAfterSuccesses: 1)], bus: bus)
        let monitor = HealthMonitor(prober: HealthProber(checks: [check], timeout: .seconds(2), clock: clock, bus: bus),
                                    interval: .seconds(10), alerts: alerts, bus: bus)
        #expect(monitor.snapshot.overall == .unhealthy && monitor.snapshot.note == "no probe has run yet")
        #expect(!monitor.isReady && monitor.isLive)

        try await testGracefulShutdown { trigger in
            let running = Task { try await monitor.run() }
            await waitFor { monitor.snapshot.rounds == 1 }
            #expect(monitor.snapshot.overall == .healthy && monitor.isReady)

            check.set(.unhealthy)
            await waitFor { clock.sleeperDeadlines.contains { $0.offset == .seconds(10) } }
            clock.advance(by: .seconds(10))
            await waitFor { monitor.snapshot.rounds == 2 }
            #expect(monitor.snapshot.overall == .unhealthy && !monitor.isReady)
            #expect(alerts.firing == ["down/pinecone"])

            trigger.triggerGracefulShutdown()
            try await running.value
            #expect(!monitor.isReady, "readiness turns off as soon as shutdown starts")
        }
        // Nobody probes any more: after the stale limit, the last snapshot is not served as is.
        check.set(.healthy)
        clock.advance(by: .seconds(60))
        let stale = monitor.snapshot
        #expect(stale.overall == .unhealthy && stale.note?.contains("stale") == true)
        await bus.shutdown()
        let changes = try sink.events.filter { $0.kind == .healthChanged }.map { try $0.payload(as: HealthChanged.self) }
        #expect(changes.map(\.check) == ["pinecone", "overall"])
        #expect(changes.allSatisfy { $0.from == "healthy" && $0.to == "unhealthy" })
        #expect(sink.events.filter { $0.kind == .healthProbed }.count == 2)
        #expect(sink.events.contains { $0.kind == .alertFired })
    }
}

/// A check that answers healthy after the time it is given (measured by the check itself).
private struct SlowCheck: HealthCheck {
    let name: String
    let isCritical = false
    let latency: Duration
    func check() async -> HealthResult { HealthResult(status: .healthy, latency: latency, message: "ok") }
}

@Suite struct SlowProbeTests {
    @Test func probesSlowerThanTheThresholdAreLoggedAsWarnings() async {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [sink])
        let prober = HealthProber(checks: [SlowCheck(name: "vectors", latency: .milliseconds(2500)), SlowCheck(name: "disk", latency: .milliseconds(3))],
                                  timeout: .seconds(5), clock: ManualClock(), bus: bus)
        let monitor = HealthMonitor(prober: prober, interval: .seconds(10), bus: bus, slowProbe: .seconds(2))
        await monitor.round()
        await bus.shutdown()
        let warnings = sink.events.filter { $0.kind == .logMessage && $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("slow probe: vectors took 2500 ms (threshold 2000 ms)") == true, "\(warnings)")
    }
}
