/// How a ``CircuitBreaker`` decides to open, how long it stays open, and how it tries to close.
public struct CircuitBreakerConfiguration: Sendable {
    /// When the breaker opens.
    public enum Trip: Sendable, Hashable {
        /// After this many failures in a row (the guide's `failure_threshold`).
        case consecutiveFailures(Int)
        /// When the failure rate over the window reaches `threshold` (0…1), once the window holds
        /// at least `minimumCalls` calls.
        case failureRate(threshold: Double, window: Window, minimumCalls: Int)
    }

    /// The sliding window of a failure-rate breaker.
    public enum Window: Sendable, Hashable {
        /// The last `n` calls.
        case count(Int)
        /// The calls of the last `duration`.
        case time(Duration)
    }

    /// When the breaker opens.
    public var trip: Trip
    /// How long it stays open before it admits trial calls (the guide's `recovery_timeout`).
    public var recoveryTimeout: Duration
    /// Each time a trial fails and the breaker reopens, the open time is multiplied by this
    /// (1 keeps it fixed), up to ``maxOpenDuration``.
    public var openDurationMultiplier: Double
    /// The longest open time.
    public var maxOpenDuration: Duration
    /// Trial calls admitted while half-open; others are rejected (no thundering herd).
    public var halfOpenPermits: Int
    /// If trials do not finish within this time after half-open began, the breaker reopens: it
    /// never stays stuck half-open.
    public var maxHalfOpenDuration: Duration
    /// A call slower than this counts as a failure even if it succeeded; `nil` never.
    public var slowCallThreshold: Duration?
    /// Which errors count as failures (others count as successes). Cancellation never counts.
    public var isFailure: @Sendable (any Error) -> Bool

    /// Creates a configuration; the defaults are the guide's (5 failures, 60 s).
    public init(
        trip: Trip = .consecutiveFailures(5),
        recoveryTimeout: Duration = .seconds(60),
        openDurationMultiplier: Double = 1,
        maxOpenDuration: Duration = .seconds(600),
        halfOpenPermits: Int = 1,
        maxHalfOpenDuration: Duration = .seconds(60),
        slowCallThreshold: Duration? = nil,
        isFailure: @escaping @Sendable (any Error) -> Bool = { _ in true }
    ) {
        self.trip = trip
        self.recoveryTimeout = max(.zero, recoveryTimeout)
        self.openDurationMultiplier = openDurationMultiplier.isFinite ? max(1, openDurationMultiplier) : 1
        self.maxOpenDuration = max(self.recoveryTimeout, maxOpenDuration)
        self.halfOpenPermits = max(1, halfOpenPermits)
        self.maxHalfOpenDuration = max(.zero, maxHalfOpenDuration)
        self.slowCallThreshold = slowCallThreshold
        self.isFailure = isFailure
    }
}

/// The states of a breaker, with the names used in events.
public enum CircuitBreakerState: String, Sendable, Hashable {
    /// Calls pass; outcomes are counted.
    case closed
    /// Calls are rejected until the open time ends.
    case open
    /// A few trial calls pass; their outcomes close or reopen the breaker.
    case halfOpen = "half_open"
    /// Manually isolated: every call is rejected until ``CircuitBreaker/reset()``.
    case isolated
    /// Manually disabled: every call passes and nothing is counted.
    case disabled
}

/// A call was rejected by an open (or isolated, or saturated half-open) breaker.
public struct CircuitOpenError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The breaker's name.
    public var breaker: String
    /// The state that rejected the call.
    public var state: CircuitBreakerState
    /// When a call may be admitted again (`nil` while isolated).
    public var retryAfter: Duration?

    /// Creates the error.
    public init(breaker: String, state: CircuitBreakerState, retryAfter: Duration?) {
        self.breaker = breaker
        self.state = state
        self.retryAfter = retryAfter
    }

    public var description: String {
        let when = retryAfter.map { "; retry in \($0.milliseconds) ms" } ?? ""
        return "circuit breaker \(breaker) is \(state.rawValue)\(when)"
    }
}

extension CircuitOpenError: RetryAfterProviding {}
