#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of wall-clock time (UTC) for event timestamps, file names and rotation by age.
///
/// Inject a manual clock (`HardeningTestKit.ManualWallClock`) in tests so that rotation and
/// delays run fast and deterministically.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Timestamp
}

/// The system's real-time clock (`clock_gettime(CLOCK_REALTIME)`).
public struct SystemWallClock: WallClock {
    /// Creates the clock.
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microsecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }
}
