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
