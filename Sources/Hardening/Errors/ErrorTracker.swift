/// Records errors with their operation and context, reports each as an `error.recorded` event,
/// and keeps a bounded summary: the guide's `get_error_tracker()`, `record_error(operation,
/// error, context)` and `get_error_summary()['total_errors']`.
///
/// Context values are redacted before they are kept or reported (secret-named keys and
/// credential-shaped strings), and only the most recent ``recentLimit`` errors are kept, so
/// memory stays bounded whatever the error rate.
public final class ErrorTracker: Sendable {
    /// One recorded error.
    public struct Entry: Sendable, Hashable {
        /// The operation that failed.
        public var operation: String
        /// The error's type.
        public var errorType: String
        /// The error's description (redacted).
        public var message: String
        /// The context given (redacted).
        public var context: Attributes
        /// When it was recorded.
        public var timestamp: Timestamp
    }

    /// What has been recorded so far.
    public struct Summary: Sendable, Hashable {
        /// Errors recorded in all (the guide's `total_errors`).
        public var totalErrors: Int
        /// Errors per operation.
        public var byOperation: [String: Int]
        /// Errors per error type.
        public var byType: [String: Int]
        /// The most recent errors, oldest first.
        public var recent: [Entry]
    }

    /// How many recent errors are kept.
    public let recentLimit: Int
    private let bus: EventBus?
    private let clock: any WallClock
    private let redactor: Redactor
    private let state: Locked<Summary>

    /// Creates a tracker.
    public init(bus: EventBus?, recentLimit: Int = 100, clock: any WallClock = SystemWallClock(), redactor: Redactor = Redactor()) {
        self.bus = bus
        self.recentLimit = max(0, recentLimit)
        self.clock = clock
        self.redactor = redactor
        self.state = Locked(Summary(totalErrors: 0, byOperation: [:], byType: [:], recent: []))
    }

    /// Records an error (the guide's `record_error`).
    public func record(operation: String, error: any Error, context: Attributes = Attributes()) {
        let errorType = String(describing: type(of: error))
        let description = String(describing: error)
        let entry = Entry(operation: operation, errorType: errorType, message: redactor.redacted(description) ?? description,
                          context: redactor.redacted(context) ?? context, timestamp: clock.now())
        state.withLock { summary in
            summary.totalErrors += 1
            summary.byOperation[operation, default: 0] += 1
            summary.byType[errorType, default: 0] += 1
            if recentLimit > 0 {
                if summary.recent.count >= recentLimit { summary.recent.removeFirst(summary.recent.count - recentLimit + 1) }
                summary.recent.append(entry)
            }
        }
        bus?.emit(ErrorRecorded(operation: operation, errorType: errorType, rootErrorType: RootCause.typeNameIfWrapped(error),
                                error: entry.message, context: entry.context))
    }

    /// The summary so far (the guide's `get_error_summary()`); includes every `record` that
    /// returned before the call.
    public var summary: Summary { state.withLock { $0 } }
}
