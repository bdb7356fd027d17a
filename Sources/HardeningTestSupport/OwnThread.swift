import Foundation

/// Runs `work` on a thread of its own and waits for it without holding a thread of the
/// concurrency pool: for long CPU-bound tests (fuzzers, floods of input), which on the pool's few
/// threads would hold back every other test's tasks, servers and timers until they finish (the
/// pool does not preempt; the operating system shares the cores between threads).
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
