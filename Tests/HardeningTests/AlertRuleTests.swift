import Hardening
import HardeningTestKit
import Testing

@Suite struct AlertRuleTests {
    private func at(_ seconds: Int64) -> Timestamp { Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + seconds * 1_000_000) }

    @Test func aFlappingCheckFiresAfterNFailuresAndResolvesAfterMSuccesses() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [sink])
        let alerts = HealthAlerts(rules: [AlertRule(name: "consecutive_failures", trigger: .consecutiveFailures(3), resolveAfterSuccesses: 2)],
                                  bus: bus)
        // ok, fail, fail, ok (the run is broken), fail ×3 (fires), ok (not yet), fail, ok, ok (resolves)
        let probes: [HealthStatus] = [.healthy, .unhealthy, .unhealthy, .healthy, .unhealthy, .unhealthy, .degraded, .healthy,
                                      .unhealthy, .healthy, .healthy]
        var changes: [(Int, AlertState.Change)] = []
        for (second, status) in probes.enumerated() {
            for change in alerts.observe(check: "notion", status: status, at: at(Int64(second))) { changes.append((second, change)) }
            if second == 6 { #expect(alerts.firing == ["consecutive_failures/notion"]) }
        }
        #expect(changes.map(\.0) == [6, 10])
        #expect(alerts.firing.isEmpty)
        guard case .fired(let fired) = changes[0].1, case .resolved(let resolved) = changes[1].1 else {
            Issue.record("expected fired then resolved")
            return
        }
        #expect(fired.consecutiveFailures == 3 && fired.reason == "3 failed probes in a row")
        #expect(resolved.consecutiveSuccesses == 2 && resolved.firedForMs == 4_000)
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.alertFired, .alertResolved])
    }

    @Test func aFailureRatioOverAWindowWaitsForItsMinimum() {
        var state = AlertState(rule: AlertRule(name: "error_rate", trigger: .failureRatio(0.5, window: 4, minimumProbes: 4),
                                               resolveAfterSuccesses: 1), check: "pinecone")
        let outcomes = [false, false, true, true, false, true, true, true]
        var fired: [Int] = []
        var resolved: [Int] = []
        for (index, healthy) in outcomes.enumerated() {
            switch state.observe(healthy: healthy, at: at(Int64(index))) {
            case .fired?: fired.append(index)
            case .resolved?: resolved.append(index)
            case nil: break
            }
        }
        // Two failures among the first two probes are not enough (minimum 4); at probe 4 the last
        // four hold two failures (50%): it fires; the next success resolves it.
        #expect(fired == [4] && resolved == [5])
    }

    @Test func rulesAreIndependentPerCheck() {
        let alerts = HealthAlerts(rules: [AlertRule(name: "down", trigger: .consecutiveFailures(1))], bus: nil)
        alerts.observe(check: "a", status: .unhealthy, at: at(0))
        alerts.observe(check: "b", status: .healthy, at: at(0))
        #expect(alerts.firing == ["down/a"])
    }
}
