import Hardening

extension ManualClock {
    /// Runs `work` in a task and moves the clock until it finishes: to the next sleeper's
    /// deadline, but never more than `step` at a time, and only once the sleepers have settled
    /// (several layers may each start a timer), so a far timer never fires before a nearer one
    /// that is still being set up. No real time passes.
    public func drive<T: Sendable>(step: Duration = .milliseconds(50), _ work: @escaping @Sendable () async throws -> T)
        async -> Result<T, any Error>
    {
        let task = Task { () -> Result<T, any Error> in
            do { return .success(try await work()) } catch { return .failure(error) }
        }
        let done = Locked(false)
        let watcher = Task {
            _ = await task.value
            done.withLock { $0 = true }
        }
        var settled = 0
        var lastCount = -1
        var pause = PoolFriendlyPause()
        while !done.withLock({ $0 }) {
            await pause.pause()
            let count = sleeperCount
            settled = count == lastCount ? settled + 1 : 0
            if count != lastCount { pause.progressed() }
            lastCount = count
            if settled >= 20, let next = sleeperDeadlines.first {
                advance(by: min(step, max(.zero, now.duration(to: next))))
                settled = 0
                pause.progressed()
            }
        }
        await watcher.value
        return await task.value
    }
}
