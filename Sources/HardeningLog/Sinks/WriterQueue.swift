import DequeModule
import Hardening

/// Hands work from the bus's drain thread to a file sink's writer thread, with backpressure: the
/// sender waits only when more than `maxPendingBytes` of lines are queued.
final class WriterQueue: Sendable {
    enum Message: Sendable {
        case lines(LineBuffer)
        case tick(Timestamp)
        case flush
        case close
    }

    private struct State {
        var messages: Deque<Message> = []
        var pendingBytes = 0
        var tickQueued = false
        var sent = 0
        var processed = 0
        var stopping = false
        var thread: OSThread?
    }

    private let maxPendingBytes: Int
    private let state = ConditionLock(State())

    init(maxPendingBytes: Int) {
        self.maxPendingBytes = maxPendingBytes
    }

    /// Starts the writer thread, which calls `process` for each message in order.
    func start(_ process: @escaping @Sendable (Message) -> Void) {
        let thread = OSThread(name: "hardening-file") { [self] in
            while true {
                let next = state.withLockAndWaiter { state, waiter -> Message? in
                    while state.pointee.messages.isEmpty && !state.pointee.stopping { waiter.wait(.first) }
                    guard let message = state.pointee.messages.popFirst() else { return nil }
                    switch message {
                    case .lines(let lines): state.pointee.pendingBytes -= lines.byteCount
                    case .tick: state.pointee.tickQueued = false
                    default: break
                    }
                    return message
                }
                guard let next else { return }
                process(next)
                state.withLock { $0.processed += 1 }
                state.broadcast(.second)
            }
        }
        state.withLock { $0.thread = thread }
    }

    /// Queues a message; waits while too many bytes are pending. Returns its ticket.
    @discardableResult
    func send(_ message: Message) -> Int {
        let ticket = state.withLockAndWaiter { state, waiter -> Int in
            if case .lines(let lines) = message {
                while state.pointee.pendingBytes > maxPendingBytes && state.pointee.thread != nil && !state.pointee.stopping {
                    waiter.wait(.second)
                }
                state.pointee.pendingBytes += lines.byteCount
            }
            state.pointee.messages.append(message)
            state.pointee.sent += 1
            return state.pointee.sent
        }
        state.signal(.first)
        return ticket
    }

    /// Queues a tick unless one is already waiting.
    func sendTick(_ now: Timestamp) {
        let queued = state.withLock { state -> Bool in
            guard !state.tickQueued else { return false }
            state.tickQueued = true
            state.messages.append(.tick(now))
            state.sent += 1
            return true
        }
        if queued { state.signal(.first) }
    }

    /// Queues a message and waits until the writer has processed it.
    func sendAndWait(_ message: Message) {
        let ticket = send(message)
        state.withLockAndWaiter { state, waiter in
            while state.pointee.processed < ticket && state.pointee.thread != nil { waiter.wait(.second) }
        }
    }

    /// Stops the writer thread after the queued messages.
    func stop() {
        let thread = state.withLock { state -> OSThread? in
            state.stopping = true
            defer { state.thread = nil }
            return state.thread
        }
        state.signal(.first)
        thread?.join()
        state.broadcast(.second)
    }
}
