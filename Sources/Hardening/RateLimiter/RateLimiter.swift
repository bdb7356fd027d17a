/// A token bucket: ``ratePerSecond`` permits a second on average, bursts of up to ``burst``.
///
/// A call takes a permit at once when the bucket has one. Otherwise it reserves the next free
/// permit and waits for it, if that is within its `maxWait`; a call that would wait longer is
/// refused at once with ``RateLimitedError`` (which says when a permit will be free) and
/// `rate_limiter.rejected`. Reservations keep the order fair and the rate exact; a waiting call
/// that is cancelled gives its permit back.
public final class RateLimiter<C: Clock>: Sendable where C.Duration == Duration {
    private struct Bucket {
        var tokens: Double
        var updated: Duration
    }

    /// The limiter's name in events and errors.
    public let name: String
    /// Permits per second.
    public let ratePerSecond: Double
    /// The bucket's size: the largest burst.
    public let burst: Int
    /// How long a call waits for a permit unless it says otherwise (`.zero`: never waits).
    public let defaultMaxWait: Duration
    /// The clock (inject a manual clock in tests).
    public let clock: C
    /// Where `rate_limiter.rejected` goes.
    public let bus: EventBus?
    private let origin: C.Instant
    private let bucket: Locked<Bucket>

    /// Creates a full bucket.
    public init(name: String, ratePerSecond: Double, burst: Int = 1, defaultMaxWait: Duration = .zero, clock: C,
                bus: EventBus? = nil) {
        self.name = name
        self.ratePerSecond = ratePerSecond.isFinite && ratePerSecond > 0 ? ratePerSecond : 1
        self.burst = max(1, burst)
        self.defaultMaxWait = max(.zero, defaultMaxWait)
        self.clock = clock
        self.bus = bus
        self.origin = clock.now
        self.bucket = Locked(Bucket(tokens: Double(self.burst), updated: .zero))
    }

    /// Takes a permit if one is free now; never waits.
    public func tryAcquire() -> Bool {
        if case .now = reserve(maxWait: .zero) { return true }
        return false
    }

    /// Takes a permit, waiting up to `maxWait` (default ``defaultMaxWait``) for it.
    ///
    /// - Throws: ``RateLimitedError`` if none would be free in time; `CancellationError` if the
    ///   task is cancelled while waiting (the permit is given back).
    public func acquire(maxWait: Duration? = nil) async throws {
        switch reserve(maxWait: maxWait ?? defaultMaxWait) {
        case .now:
            return
        case .after(let wait):
            do {
                try await clock.sleep(for: wait)
            } catch {
                bucket.withLock { $0.tokens = min(Double(burst), $0.tokens + 1) }
                throw error
            }
        case .refused(let retryAfter):
            bus?.emit(RateLimiterRejected(limiter: name, ratePerSecond: ratePerSecond, burst: Int64(burst),
                                          retryAfterMs: retryAfter.milliseconds))
            throw RateLimitedError(limiter: name, retryAfter: retryAfter)
        }
    }

    /// Runs `body` once a permit is taken.
    public func run<T: Sendable>(maxWait: Duration? = nil, _ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire(maxWait: maxWait)
        return try await body()
    }

    /// Permits free now (negative while calls wait for reserved ones).
    public var available: Double {
        let now = origin.duration(to: clock.now)
        return bucket.withLock { refilled($0, now: now).tokens }
    }

    private enum Reservation {
        case now
        case after(Duration)
        case refused(retryAfter: Duration)
    }

    private func reserve(maxWait: Duration) -> Reservation {
        let now = origin.duration(to: clock.now)
        return bucket.withLock { bucket in
            bucket = refilled(bucket, now: now)
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return .now
            }
            let wait = Duration.seconds((1 - bucket.tokens) / ratePerSecond)
            guard wait <= maxWait else { return .refused(retryAfter: wait) }
            bucket.tokens -= 1
            return .after(wait)
        }
    }

    private func refilled(_ bucket: Bucket, now: Duration) -> Bucket {
        guard now > bucket.updated else { return bucket }
        let added = (now - bucket.updated).seconds * ratePerSecond
        return Bucket(tokens: min(Double(burst), bucket.tokens + added), updated: now)
    }
}

extension RateLimiter where C == ContinuousClock {
    /// A limiter on the continuous clock.
    public convenience init(name: String, ratePerSecond: Double, burst: Int = 1, defaultMaxWait: Duration = .zero,
                            bus: EventBus? = nil) {
        self.init(name: name, ratePerSecond: ratePerSecond, burst: burst, defaultMaxWait: defaultMaxWait,
                  clock: ContinuousClock(), bus: bus)
    }
}
