import Hardening
import NIOCore
import ServiceLifecycle

/// `/summary`'s answer, rebuilt in the background every ``interval``: a request costs a copy of
/// bytes, so many clients polling it cannot slow `/health/live` or the health probes that share
/// the process's threads. Each answer is at most ``interval`` old.
final class SummarySnapshot: Service, Sendable {
    /// How often the snapshot is rebuilt.
    let interval: Duration
    private let summary: SummarySink
    private let latest = ConditionLock<ByteBuffer?>(nil)

    init(summary: SummarySink, interval: Duration) {
        self.summary = summary
        self.interval = interval
    }

    /// The latest snapshot (built now if there is none yet).
    var body: ByteBuffer {
        if let body = latest.withLock({ $0 }) { return body }
        return refresh()
    }

    /// Rebuilds the snapshot from the live summary.
    @discardableResult
    func refresh() -> ByteBuffer {
        let body = ByteBuffer(string: summary.summary.jsonText + "\n")
        latest.withLock { $0 = body }
        return body
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
