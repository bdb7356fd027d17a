#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A command that SIGTERM and SIGINT stop gracefully, through a swift-service-lifecycle
/// `ServiceGroup` that listens for them once it runs.
protocol StopsGracefully {}

/// SIGTERM and SIGINT that arrive before a graceful command's service group listens.
///
/// Until the group's signal sources are registered, the signals have their default action: one
/// sent while the process starts (a loaded machine takes a while to get there, a process stopped
/// with SIGSTOP longer) ended it at once, with nothing written and status 143. Blocking them does
/// not hold: the runtime clears the main thread's mask before the command runs. So `main` catches
/// them from its first line and remembers the first; once the group's handler has replaced this
/// one, the signal is sent again, and the group stops gracefully as for any other. A command that
/// does not stop gracefully gets the default action back, and the signal if one came.
enum ShutdownSignals {
    /// The first signal caught early, or 0. Process-wide by nature: the signal disposition is.
    private static let caught = Atomic<Int32>(0)
    private static let handled = [SIGTERM, SIGINT]

    private static let handler: @convention(c) (Int32) -> Void = { number in
        _ = ShutdownSignals.caught.compareExchange(expected: 0, desired: number, ordering: .relaxed)
    }

    /// Catches the signals that are not ignored (a background job's SIGINT stays ignored).
    static func catchEarly() {
        for number in handled where currentHandler(of: number) != unsafeBitCast(SIG_IGN, to: Int.self) {
            signal(number, handler)
        }
    }

    /// For a command that does not stop gracefully: the default action again, taken now if a
    /// signal came.
    static func restoreDefault() {
        for number in handled where currentHandler(of: number) == ownHandler { signal(number, SIG_DFL) }
        let number = caught.load(ordering: .relaxed)
        if number != 0 { kill(getpid(), number) }
    }

    /// For a graceful command: waits (in the background) until the service group's handler has
    /// replaced this one for every signal caught early, then sends a signal caught meanwhile again.
    static func forwardToServiceGroup() {
        Task.detached {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(120))
            while handled.contains(where: { currentHandler(of: $0) == ownHandler }), clock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            // The group registers a source after it sets the handler: give it that moment.
            try? await Task.sleep(for: .milliseconds(50))
            let number = caught.load(ordering: .relaxed)
            if number != 0 { kill(getpid(), number) }
        }
    }

    private static var ownHandler: Int { unsafeBitCast(handler, to: Int.self) }

    private static func currentHandler(of number: Int32) -> Int {
        var action = sigaction()
        sigaction(number, nil, &action)
        #if canImport(Darwin)
        return unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self)
        #else
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
        #endif
    }
}
