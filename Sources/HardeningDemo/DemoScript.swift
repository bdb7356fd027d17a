/// The demo's scripted faults, on a timeline from 0 (start) to 1 (end of `--duration`), so that a
/// 3-second run and a 20-second run show the same story:
///
/// - notes API: latency spikes (every third request 450 ms, the others 150–270 ms; the attempt limit is
///   300 ms) in 0.15–0.30;
/// - vector database: 503 bursts (about two requests in five) in 0.35–0.45;
/// - LLM API: a 429 with `Retry-After` on every fifth request in 0.10–0.90, and an outage (every
///   request 503, its health 503) in 0.50–0.70 that opens its breaker, then recovery;
/// - reference manager: hangs (over the 200 ms attempt limit) in 0.60–0.80.
public struct DemoScript: Sendable {
    /// What one dependency does to one request.
    public enum Behaviour: Sendable, Hashable {
        /// Answers after `delay`.
        case answer(delay: Duration)
        /// Fails with `status` (and `Retry-After`, if any) after `delay`.
        case fail(status: Int, retryAfter: Duration?, delay: Duration)
    }

    /// The four fake dependencies.
    public enum Dependency: String, Sendable, CaseIterable {
        case notes, vectors, llm, references
    }

    /// Which faults the dependencies play.
    public enum Faults: String, Sendable, CaseIterable {
        /// The story above.
        case scripted
        /// None: every dependency answers quickly and stays healthy (a steady service).
        case none
    }

    /// The whole run's length.
    public var duration: Duration
    /// Which faults the dependencies play.
    public var faults: Faults

    /// A script for a run of `duration`.
    public init(duration: Duration, faults: Faults = .scripted) {
        self.duration = duration
        self.faults = faults
    }

    /// The `Retry-After` the LLM API asks for: a fortieth of the run, at least 50 ms.
    public var retryAfter: Duration { max(.milliseconds(50), duration / 40) }

    /// What `dependency` does to its `request`-th request at `progress` (0…1); `noise` in 0..<1.
    public func behaviour(of dependency: Dependency, request: Int, progress: Double, noise: Double) -> Behaviour {
        let quick = Duration.milliseconds(2 + Int64(noise * 10))
        guard faults == .scripted else {
            return .answer(delay: dependency == .llm ? .milliseconds(20 + Int64(noise * 40)) : quick)
        }
        switch dependency {
        case .notes:
            if (0.15..<0.30).contains(progress) {
                // Every third request over the limit for sure, so that even a run slowed to a few
                // requests in the window shows a timeout; the others under it, so that the retries
                // absorb the spike: ten timeouts in a row (which had the notes breaker open in some
                // runs and not others) cannot happen, and every run tells the same story.
                return .answer(delay: .milliseconds(request % 3 == 0 ? 450 : 150 + Int64(noise * 120)))
            }
            return .answer(delay: quick)
        case .vectors:
            if (0.35..<0.45).contains(progress), noise < 0.4 { return .fail(status: 503, retryAfter: nil, delay: quick) }
            return .answer(delay: quick)
        case .llm:
            if (0.50..<0.70).contains(progress) { return .fail(status: 503, retryAfter: nil, delay: quick) }
            if (0.10..<0.90).contains(progress), request % 5 == 0 { return .fail(status: 429, retryAfter: retryAfter, delay: quick) }
            return .answer(delay: .milliseconds(20 + Int64(noise * 40)))
        case .references:
            if (0.60..<0.80).contains(progress) { return .answer(delay: .seconds(1)) }
            return .answer(delay: quick)
        }
    }

    /// Whether `dependency`'s own `/health` answers 503 at `progress` (the LLM during its outage).
    public func isDown(_ dependency: Dependency, progress: Double) -> Bool {
        faults == .scripted && dependency == .llm && (0.50..<0.70).contains(progress)
    }
}
