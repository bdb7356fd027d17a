// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import NIOCore
import ServiceLifecycle

/// `/summary`'s and `/metrics`' answers, rebuilt together in the background every ``interval``
/// from the live summary: a request costs a copy of bytes, so many clients polling either cannot
/// slow `/health/live` or the health probes that share the process's threads. Each answer is at
/// most ``interval`` old, and both describe the same moment.
final class SummarySnapshot: Service, Sendable {
    /// The two answers of one moment.
    struct Answers: Sendable {
        /// The summary as JSON (with a final newline).
        var summary: ByteBuffer
        /// The summary as Prometheus text: every family of `MetricCatalogue`.
        var metrics: ByteBuffer
    }

    /// How often the snapshot is rebuilt.
    let interval: Duration
    private let summary: SummarySink
    private let latest = ConditionLock<Answers?>(nil)

    init(summary: SummarySink, interval: Duration) {
        self.summary = summary
        self.interval = interval
    }

    /// The latest answers (built now if there are none yet).
    var answers: Answers {
        if let answers = latest.withLock({ $0 }) { return answers }
        return refresh()
    }

    /// Rebuilds both answers from the live summary.
    @discardableResult
    func refresh() -> Answers {
        let current = summary.summary
        let answers = Answers(summary: ByteBuffer(string: current.jsonText + "\n"), metrics: ByteBuffer(string: current.prometheusExposition))
        latest.withLock { $0 = answers }
        return answers
    }

    /// Rebuilds every ``interval`` until graceful shutdown.
    func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                refresh()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
#endif
