import Hardening

/// A wall clock that moves only when told, for fast, deterministic tests of rotation by age,
/// minimum rotation intervals and compression delays.
public final class ManualWallClock: WallClock {
    private let current: Locked<Timestamp>

    /// Starts at `start` (default 2026-11-29T00:00:00Z).
    public init(start: Timestamp = Timestamp(microsecondsSinceEpoch: 1_795_910_400_000_000)) {
        current = Locked(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }

    /// Sets the clock.
    public func set(_ timestamp: Timestamp) {
        current.withLock { $0 = timestamp }
    }
}
