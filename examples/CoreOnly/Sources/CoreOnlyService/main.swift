// Calls a flaky dependency through retry and a circuit breaker, with a fallback, timed; events go
// to stdout and to rotating gzip files in the directory given (default ./core-only-logs); then
// the files are replayed and the summary printed.
import Hardening
import HardeningLog
import Synchronization

struct Flaky: Error {}

let directory = CommandLine.arguments.dropFirst().first ?? "./core-only-logs"
let fileSink = RotatingFileSink(configuration: .init(directory: directory))
let bus = EventBus(configuration: .init(service: "core-only-service"), sinks: [fileSink, StdoutSink(format: .json)])
let breaker = CircuitBreaker(name: "search", failureThreshold: 3, recoveryTimeout: .seconds(30), bus: bus)
let timing = Timing(clock: ContinuousClock(), bus: bus)
let fallback = Fallback<String>().otherwise(name: "cached") { _ in "cached answer" }
let retry = Retry(policy: RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(1)), bus: bus)

let calls = Atomic<Int>(0)
for question in 0..<10 {
    let answer = try await timing.timed("answer") {
        try await fallback.run("answer", bus: bus) {
            try await breaker.call {
                try await retry.run("search") {
                    // Three of every four calls fail: retries, then the breaker opens and the fallback answers.
                    if calls.add(1, ordering: .relaxed).newValue % 4 != 0 { throw Flaky() }
                    return "answer \(question)"
                }
            }
        }
    }
    print("question \(question): \(answer)")
}
await bus.shutdown()

let report = try Replay().run(ReplayInputs([directory]))
print(report.text)
