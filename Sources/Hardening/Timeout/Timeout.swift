/// Runs an operation with a time limit, cooperatively: when the limit is reached the operation's
/// task is cancelled and ``TimeoutError`` is thrown as soon as it returns; `timeout.fired` is
/// emitted.
///
/// The operation runs as a child task beside a timer on the injected clock, so a body that
/// checks for cancellation (every `Task.sleep`, `URLSession`, `AsyncHTTPClient` call does) stops
/// at once. A body that ignores cancellation is waited for: nothing is left running behind the
/// caller's back (and if it still returns a value, the value is returned, not thrown away). The caller's own cancellation is passed through as `CancellationError`, never
/// reported as a timeout.
public struct Timeout<C: Clock>: Sendable where C.Duration == Duration {
    /// The clock that measures the limit.
    public var clock: C
    /// Where `timeout.fired` goes.
    public var bus: EventBus?

    /// Creates a timeout source.
    public init(clock: C, bus: EventBus? = nil) {
        self.clock = clock
        self.bus = bus
    }

    /// Runs `body`, cancelling it after `timeout`.
    ///
    /// - Throws: ``TimeoutError`` if the limit fired, `CancellationError` if the caller was
    ///   cancelled, or the body's own error.
    public func run<T: Sendable>(_ operation: String, timeout: Duration, scope: TimeoutError.Scope = .attempt,
                                 _ body: @Sendable () async throws -> T) async throws -> T {
        try Task.checkCancellation()
        guard timeout > .zero else { throw fired(operation, timeout, scope) }
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: Finished<T>.self) { group in
                group.addTask { .value(try await body()) }
                group.addTask {
                    try await clock.sleep(for: timeout)
                    return .timerFired
                }
                // The group awaits both children before it returns, so `body` never escapes.
                defer { group.cancelAll() }
                switch try await group.next()! {
                case .value(let value):
                    return value
                case .timerFired:
                    group.cancelAll()
                    // Wait for the body. A value that arrives anyway is kept; an error now (whatever
                    // the body turned the cancellation into) is the timeout's doing.
                    if case .value(let value)? = try? await group.next() { return value }
                    throw fired(operation, timeout, scope)
                }
            }
        }
    }

    private enum Finished<T: Sendable>: Sendable {
        case value(T)
        case timerFired
    }

    private func fired(_ operation: String, _ timeout: Duration, _ scope: TimeoutError.Scope) -> TimeoutError {
        bus?.emit(TimeoutFired(operation: operation, scope: scope.rawValue, timeoutMs: timeout.milliseconds))
        return TimeoutError(operation: operation, timeout: timeout, scope: scope)
    }
}

extension Timeout where C == ContinuousClock {
    /// Timeouts on the continuous clock.
    public init(bus: EventBus? = nil) {
        self.init(clock: ContinuousClock(), bus: bus)
    }
}
