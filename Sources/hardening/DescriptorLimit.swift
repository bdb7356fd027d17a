#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit.
enum DescriptorLimit {
    /// Raises the soft limit on open descriptors to the hard limit (as Go's runtime and many
    /// servers do at start): a long-running agent holding client connections, health probes and
    /// log files should not fail at a soft default of 1,024. Nothing changes if it cannot.
    static func raiseToHardLimit() {
        var limit = rlimit()
        guard getrlimit(resourceKind, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resourceKind, &limit)
    }

    #if canImport(Glibc)
    private static let resourceKind = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceKind = RLIMIT_NOFILE
    #endif
}
