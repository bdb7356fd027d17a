import Hardening

/// Holds tasks until opened: a test decides when a call in flight may finish.
public final class AsyncGate: Sendable {
    private let state = Locked<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// A closed gate.
    public init() {}

    /// Whether a task waits at the gate now.
    public var hasWaiter: Bool { state.withLock { !$0.waiters.isEmpty } }

    /// Waits until the gate is opened (returns at once if it is).
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Opens the gate for good and lets every waiting task go.
    public func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A counter shared between tasks.
public final class Counter: Sendable {
    private let count = Locked(0)

    /// A counter at zero.
    public init() {}

    /// Adds one.
    public func increment() { count.withLock { $0 += 1 } }

    /// The count now.
    public var value: Int { count.withLock { $0 } }
}
