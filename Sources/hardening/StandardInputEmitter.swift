import Hardening
import HardeningLog
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads standard input on a thread of its own and emits every line (``LineEvent``) on the bus.
/// It finishes at end of input, or at graceful shutdown (SIGTERM): then the bytes already read
/// of an unfinished line are emitted too, so that nothing read is dropped.
final class StandardInputEmitter: Service, Sendable {
    /// What was read and emitted.
    struct Counts: Sendable {
        var lines = 0
        var events = 0
        var problems = 0
    }

    private struct State {
        var pending: [UInt8] = []
        var counts = Counts()
        var finished = false
        var continuation: CheckedContinuation<Void, Never>?
        var started = false
    }

    /// The longest line kept whole; a longer one is emitted in parts of this size.
    static let maxLineBytes = 4 << 20

    private let bus: EventBus
    private let descriptor: Int32
    private let report: @Sendable (String) -> Void
    private let state = Locked(State())

    init(bus: EventBus, descriptor: Int32 = 0, report: @escaping @Sendable (String) -> Void) {
        self.bus = bus
        self.descriptor = descriptor
        self.report = report
    }

    var counts: Counts { state.withLock { $0.counts } }

    func run() async {
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let start = state.withLock { state -> Bool in
                    if state.finished {
                        continuation.resume()
                        return false
                    }
                    state.continuation = continuation
                    defer { state.started = true }
                    return !state.started
                }
                // Detached: at a signal it may still be blocked in read(2) when the process exits.
                if start { OSThread(name: "hardening-stdin") { [self] in self.readUntilEnd() }.detach() }
            }
        } onGracefulShutdown: {
            // A line may be blocked in `emit` behind a stalled sink (with the lock held): the
            // shutdown clock lets it through within the timeout, then the rest is emitted.
            self.bus.beginShutdown()
            self.finish(note: "stopped by a signal")
        }
    }

    private func readUntilEnd() {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 {
                if count < 0 { report("reading standard input failed: \(String(cString: strerror(errno)))") }
                finish(note: nil)
                return
            }
            let open = chunk.withUnsafeBufferPointer { buffer in
                state.withLock { state -> Bool in
                    guard !state.finished else { return false }
                    take(UnsafeBufferPointer(rebasing: buffer[0..<count]), into: &state)
                    return true
                }
            }
            if !open { return }
        }
    }

    /// Splits `bytes` into lines and emits each whole one (under the lock, so that a shutdown
    /// never overtakes a line being emitted).
    private func take(_ bytes: UnsafeBufferPointer<UInt8>, into state: inout State) {
        var lineStart = 0
        for index in 0..<bytes.count where bytes[index] == 0x0A {
            state.pending.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart..<index]))
            emitPending(&state, note: nil)
            lineStart = index + 1
        }
        state.pending.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart...]))
        while state.pending.count > Self.maxLineBytes {
            let rest = Array(state.pending[Self.maxLineBytes...])
            state.pending.removeSubrange(Self.maxLineBytes...)
            emitPending(&state, note: "longer than \(Self.maxLineBytes) bytes: emitted in parts")
            state.pending = rest
            state.counts.lines -= 1  // the same line goes on
        }
    }

    private func emitPending(_ state: inout State, note: String?) {
        var line = state.pending
        state.pending.removeAll(keepingCapacity: true)
        if line.last == 0x0D { line.removeLast() }
        state.counts.lines += 1
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }), note == nil { return }
        let event = LineEvent(line: line)
        if let problem = event.problem ?? note.map({ $0 + "; emitted as text" }) {
            state.counts.problems += 1
            report("line \(state.counts.lines): \(problem)")
        }
        bus.emit(event.level, event.kind, message: event.message, attrs: event.attrs)
        state.counts.events += 1
    }

    /// Ends the reading: emits what was read of an unfinished line, then lets ``run()`` return.
    private func finish(note: String?) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            if !state.pending.isEmpty {
                // A last line without a newline is ordinary at the end of input; at a signal, say so.
                emitPending(&state, note: note.map { "\($0) inside this line (no newline yet)" })
            }
            state.finished = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}
