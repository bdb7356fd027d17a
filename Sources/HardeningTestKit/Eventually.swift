/// Waits until `condition` holds, checking it every `interval`, for at most `timeout`; returns
/// whether it held. For tests that wait on another task or thread: a bounded wait fails the test
/// with a message instead of hanging the whole run, and it does not spin a core.
///
/// ```swift
/// #expect(await eventually { bulkhead.snapshot.inFlight == 2 })
/// ```
@discardableResult
public func eventually(timeout: Duration = .seconds(20), interval: Duration = .milliseconds(1),
                       _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while !condition() {
        guard clock.now < deadline else { return false }
        try? await Task.sleep(for: interval)
    }
    return true
}

/// Produces a value every `interval` until `isDone` holds for it or `timeout` has passed, and
/// returns the last value produced, so that the test checks what it last saw and says so:
///
/// ```swift
/// let health = try await eventually { try await get(client, "/health") } until: { $0.status == 503 }
/// #expect(health.status == 503, "\(health.body)")
/// ```
///
/// For a condition that needs an async step (an HTTP request, a file read through an actor); the
/// deadline is time, not a number of tries, so a slow step on a loaded machine does not stretch it.
public func eventually<Value>(timeout: Duration = .seconds(30), interval: Duration = .milliseconds(20),
                              _ produce: () async throws -> Value, until isDone: (Value) throws -> Bool) async rethrows -> Value {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var value = try await produce()
    while try !isDone(value), clock.now < deadline {
        try? await Task.sleep(for: interval)
        value = try await produce()
    }
    return value
}
