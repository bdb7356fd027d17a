#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Free space on the file system that holds `path` (the log directory, say): unhealthy below
/// `minimumFreeBytes`, degraded below `warningFreeBytes`.
public struct DiskSpaceHealthCheck: HealthCheck {
    public var name: String
    public var isCritical: Bool
    /// A path on the file system to check.
    public var path: String
    /// Below this, unhealthy.
    public var minimumFreeBytes: UInt64
    /// Below this, degraded.
    public var warningFreeBytes: UInt64

    /// Creates the check.
    public init(name: String = "disk", path: String, minimumFreeBytes: UInt64, warningFreeBytes: UInt64? = nil, isCritical: Bool = true) {
        self.name = name
        self.path = path
        self.minimumFreeBytes = minimumFreeBytes
        self.warningFreeBytes = max(minimumFreeBytes, warningFreeBytes ?? minimumFreeBytes)
        self.isCritical = isCritical
    }

    public func check() async -> HealthResult {
        let clock = ContinuousClock()
        let start = clock.now
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            return HealthResult(status: .unhealthy, latency: start.duration(to: clock.now), message: "cannot read free space of \(path): \(reason)")
        }
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        let total = UInt64(info.f_blocks) * UInt64(info.f_frsize)
        let observed: Attributes = ["free_bytes": .int(Int64(clamping: free)), "total_bytes": .int(Int64(clamping: total))]
        let latency = start.duration(to: clock.now)
        let mib = free >> 20
        if free < minimumFreeBytes {
            return HealthResult(status: .unhealthy, latency: latency, message: "\(mib) MiB free on \(path), below the minimum of \(minimumFreeBytes >> 20) MiB", observed: observed)
        }
        if free < warningFreeBytes {
            return HealthResult(status: .degraded, latency: latency, message: "\(mib) MiB free on \(path), below the warning level of \(warningFreeBytes >> 20) MiB", observed: observed)
        }
        return HealthResult(status: .healthy, latency: latency, message: "\(mib) MiB free on \(path)", observed: observed)
    }
}
