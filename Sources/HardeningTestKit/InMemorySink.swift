import Hardening

/// Keeps delivered events in memory, for tests.
public final class InMemorySink: EventSink {
    private struct State {
        var events: [Event] = []
        var flushes = 0
        var closed = false
    }

    public let name: String
    private let state = Locked(State())
    /// Tests read every event: never given up for being slow.
    public var isDurable: Bool { true }

    /// Creates an empty sink.
    public init(name: String = "memory") { self.name = name }

    /// The events delivered so far.
    public var events: [Event] { state.withLock { $0.events } }
    /// How many times the bus flushed the sink.
    public var flushCount: Int { state.withLock { $0.flushes } }
    /// Whether the bus closed the sink.
    public var isClosed: Bool { state.withLock { $0.closed } }

    public func write(_ events: [Event]) { state.withLock { $0.events.append(contentsOf: events) } }
    public func flush() { state.withLock { $0.flushes += 1 } }
    public func close() { state.withLock { $0.closed = true } }
}

/// A sink that blocks in `write` until opened, so tests can fill the bus's buffer.
public final class GatedSink: EventSink {
    private let inner = InMemorySink(name: "gated")
    private let gate = Locked(false)
    public let name = "gated"

    /// Creates a closed gate.
    public init() {}

    /// Lets writes through from now on.
    public func open() { gate.withLock { $0 = true } }

    /// The events delivered so far.
    public var events: [Event] { inner.events }

    public func write(_ events: [Event]) {
        while !gate.withLock({ $0 }) { usleepShort() }
        inner.write(events)
    }
    public func flush() { inner.flush() }
    public func close() { inner.close() }

    private func usleepShort() {
        var request = timespec(tv_sec: 0, tv_nsec: 200_000)
        nanosleep(&request, nil)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
