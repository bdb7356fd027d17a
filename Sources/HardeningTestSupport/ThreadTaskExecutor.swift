import Hardening

/// A task executor with a thread of its own, for the tests' in-process servers: tasks that
/// prefer it (and their child tasks, such as a server's connection handlers) run there, so a
/// server answers on time while CPU-bound tests hold every thread of the concurrency pool (the
/// pool does not preempt; the operating system shares the cores between threads).
public final class ThreadTaskExecutor: TaskExecutor, Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var stopped = false
    }

    private let state = ConditionLock(State())
    private let thread: Locked<OSThread?> = Locked(nil)

    /// Starts the executor's thread; ``shutdown()`` stops it.
    public init(name: String = "test-executor") {
        let started = OSThread(name: name) { [self] in runJobs() }
        thread.withLock { $0 = started }
    }

    private func runJobs() {
        while true {
            let jobs = state.withLockAndWaiter { state, waiter -> [UnownedJob]? in
                while state.pointee.jobs.isEmpty, !state.pointee.stopped { waiter.wait(.first) }
                if state.pointee.jobs.isEmpty { return nil }
                defer { state.pointee.jobs.removeAll(keepingCapacity: true) }
                return state.pointee.jobs
            }
            guard let jobs else { return }
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.withLock { $0.jobs.append(job) }
        state.signal(.first)
    }

    /// Stops the thread once the jobs queued so far have run.
    public func shutdown() {
        state.withLock { $0.stopped = true }
        state.signal(.first)
        thread.withLock { $0 }?.join()
    }
}
