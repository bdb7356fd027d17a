/// A pause for test loops that wait on other tasks or threads: yields while the wait is short,
/// then sleeps briefly, so that a test spinning on the concurrency pool does not keep its few
/// threads busy while the work it waits for (another task, a sink's thread, a child process)
/// needs them. Call ``progressed()`` when something moved.
package struct PoolFriendlyPause: Sendable {
    private var idle = 0
    /// Yields this many times in a row before it starts sleeping.
    package var yieldsBeforeSleeping: Int
    /// How long each sleep lasts.
    package var sleep: Duration

    /// A pause that yields `yieldsBeforeSleeping` times, then sleeps `sleep` at a time.
    package init(yieldsBeforeSleeping: Int = 64, sleep: Duration = .microseconds(100)) {
        self.yieldsBeforeSleeping = yieldsBeforeSleeping
        self.sleep = sleep
    }

    /// Waits a little: a yield, or after many in a row without progress, a short sleep.
    package mutating func pause() async {
        idle += 1
        if idle <= yieldsBeforeSleeping {
            await Task.yield()
        } else {
            try? await Task.sleep(for: sleep)
        }
    }

    /// Something moved: the next pauses yield again.
    package mutating func progressed() { idle = 0 }
}
