import DequeModule
import Hardening

/// Hands work from the bus's drain thread to a file sink's writer thread, with backpressure: the
/// sender waits only when more than `maxPendingBytes` of lines are queued.
///
/// Line buffers travel apart from the messages so that the writer receives each one uniquely
/// owned (no copy-on-write when it writes and empties it), and emptied buffers come back for
/// reuse: a fresh megabyte per hand-off would cost page faults on every one.
final class WriterQueue: Sendable {
    enum Message: Sendable {
        /// The next queued line buffer.
        case lines
        case tick(Timestamp)
        case flush
        case close
    }

    private struct State {
        var messages: Deque<Message> = []
        var buffers: Deque<LineBuffer> = []
        var recycled: [LineBuffer] = []
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

    /// Starts the writer thread, which calls `process` for each message in order; for `.lines`
    /// the buffer is passed `inout`, and whatever empty buffer `process` leaves there is reused.
    func start(_ process: @escaping @Sendable (Message, inout LineBuffer) -> Void) {
        let thread = OSThread(name: "hardening-file") { [self] in
            var scratch = LineBuffer(reservingBytes: 0)
            while true {
                let next = state.withLockAndWaiter { state, waiter -> Message? in
                    while state.pointee.messages.isEmpty && !state.pointee.stopping { waiter.wait(.first) }
                    guard let message = state.pointee.messages.popFirst() else { return nil }
                    switch message {
                    case .lines:
                        scratch = state.pointee.buffers.popFirst() ?? LineBuffer(reservingBytes: 0)
                        state.pointee.pendingBytes -= scratch.byteCount
                    case .tick: state.pointee.tickQueued = false
                    default: break
                    }
                    return message
                }
                guard let next else { return }
                process(next, &scratch)
                var spare: LineBuffer? = nil
                if case .lines = next {
                    scratch.removeAll()
                    spare = scratch
                    scratch = LineBuffer(reservingBytes: 0)
                }
                state.withLock { state in
                    state.processed += 1
                    if let spare, state.recycled.count < 1 { state.recycled.append(spare) }
                }
                state.broadcast(.second)
            }
        }
        state.withLock { $0.thread = thread }
    }

    /// An emptied buffer to fill, if one came back from the writer.
    func reusableBuffer() -> LineBuffer? {
        state.withLock { $0.recycled.popLast() }
    }

    /// Queues lines; waits while too many bytes are pending.
    func send(lines: LineBuffer) {
        state.withLockAndWaiter { state, waiter in
            while state.pointee.pendingBytes > maxPendingBytes && state.pointee.thread != nil && !state.pointee.stopping {
                waiter.wait(.second)
            }
            state.pointee.pendingBytes += lines.byteCount
            state.pointee.buffers.append(lines)
            state.pointee.messages.append(.lines)
            state.pointee.sent += 1
        }
        state.signal(.first)
    }

    /// Queues a message (not `.lines`). Returns its ticket.
    @discardableResult
    func send(_ message: Message) -> Int {
        let ticket = state.withLock { state -> Int in
            state.messages.append(message)
            state.sent += 1
            return state.sent
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
