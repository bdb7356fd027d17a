#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process environment, read without Foundation.
enum ProcessEnvironment {
    static var current: [String: String] {
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") { environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]) }
            entry += 1
        }
        return environment
    }

    /// The `host` field's value when `HARDENING_HOST` sets it (a container's name, or one host of
    /// a test that plays several); `nil`: the machine's host name.
    static var hostOverride: String? {
        guard let host = current["HARDENING_HOST"], !host.isEmpty else { return nil }
        return host
    }
}
