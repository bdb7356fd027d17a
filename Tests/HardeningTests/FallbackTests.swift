import Hardening
import HardeningTestKit
import Testing

private struct Timeout: Error {}
private struct NotFound: Error { var id: String }
private struct Other: Error {}

@Suite struct FallbackTests {
    private let fallback = Fallback<String>()
        .when(NotFound.self, name: "empty_page") { "no page \($0.id)" }
        .when(Timeout.self, name: "cached") { _ in "cached answer" }

    @Test(arguments: [
        (0, "fresh answer", nil as String?),
        (1, "no page p-1", "empty_page"),
        (2, "cached answer", "cached"),
    ])
    func theRuleIsChosenByErrorKind(mode: Int, expected: String, rule: String?) async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let answer = try await fallback.run("rag.answer", bus: bus) {
            switch mode {
            case 1: throw NotFound(id: "p-1")
            case 2: throw Timeout()
            default: return "fresh answer"
            }
        }
        #expect(answer == expected)
        await bus.shutdown()
        let used = try sink.events.filter { $0.kind == .fallbackUsed }.map { try $0.payload(as: FallbackUsed.self) }
        #expect(used.map(\.fallback) == (rule.map { [$0] } ?? []))
        #expect(used.first.map { $0.operation == "rag.answer" } ?? true)
    }

    @Test func unmatchedErrorsAndCancellationAreRethrown() async {
        await #expect(throws: Other.self) { try await fallback.run("op") { throw Other() } }
        await #expect(throws: CancellationError.self) {
            try await Fallback.value("x").run("op") { throw CancellationError() }
        }
    }

    @Test func gracefulDegradationIsTheGuidesShortcut() async throws {
        let value = try await gracefulDegradation("zotero.items", fallback: [String]()) { () async throws -> [String] in throw Timeout() }
        #expect(value.isEmpty)
        let fine = try await gracefulDegradation("zotero.items", fallback: [String]()) { ["a"] }
        #expect(fine == ["a"])
    }

    /// The synchronous form: the same answer, event and timed outcome, cancellation rethrown.
    @Test func gracefulDegradationHasASynchronousForm() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "t", volume: .full), sinks: [sink])
        let timing = Timing(clock: ManualClock(), bus: bus)
        let (parsed, fine, cancelled) = try Self.synchronousCalls(timing, bus)
        #expect(parsed == 10 && fine == 42 && cancelled)
        await bus.shutdown()
        #expect(sink.events.map(\.kind) == [.fallbackUsed, .timingRecorded])
        #expect(try sink.events[1].payload(as: TimingRecorded.self).outcome == "fallback")
    }

    /// Synchronous code, as an app without async calls it.
    private static func synchronousCalls(_ timing: Timing<ManualClock>, _ bus: EventBus) throws -> (Int, Int, Bool) {
        func parse(_ text: String) throws -> Int {
            guard let value = Int(text) else { throw Timeout() }
            return value
        }
        let parsed = try timing.timed("config.parse") { try gracefulDegradation("config.parse", fallback: 10, bus: bus) { try parse("x") } }
        let fine = try gracefulDegradation("config.parse", fallback: 10) { try parse("42") }
        var cancelled = false
        do {
            _ = try gracefulDegradation("config.parse", fallback: 10) { () throws -> Int in throw CancellationError() }
        } catch {
            cancelled = error is CancellationError
        }
        return (parsed, fine, cancelled)
    }
}
