import ServiceLifecycle

/// Runs a service, and cancels it if it has not finished `grace` after graceful shutdown began:
/// an exporter whose collector is down (each export waits out its timeout, and the last flush
/// after it) then delays the application's exit by `grace` at most, never by its whole backlog.
struct BoundedShutdown: Service {
    let inner: any Service
    let grace: Duration

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await inner.run() }
            group.addTask {
                // Throws only when cancelled, which means the inner service finished first.
                try await gracefulShutdown()
                try await Task.sleep(for: grace)
            }
            // Whichever ends first: the inner service (done), or the grace (cancel it).
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
