#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a TCP port accepts connections (a database, a cache, a service without an HTTP
/// health endpoint): unhealthy if refused, unreachable or not answering within `timeout`,
/// degraded if slower than `slowThreshold`.
///
/// The connect runs on its own short-lived thread with a poll timeout, so a dead host never
/// holds one of the concurrency pool's few threads.
public struct TCPHealthCheck: HealthCheck {
    public var name: String
    public var isCritical: Bool
    /// Host name or address.
    public var host: String
    /// Port.
    public var port: UInt16
    /// How long a connect may take.
    public var timeout: Duration
    /// Slower than this is degraded; `nil`: never.
    public var slowThreshold: Duration?

    /// Creates the check.
    public init(name: String, host: String, port: UInt16, timeout: Duration = .seconds(2), slowThreshold: Duration? = nil,
                isCritical: Bool = true) {
        self.name = name
        self.host = host
        self.port = port
        self.timeout = timeout
        self.slowThreshold = slowThreshold
        self.isCritical = isCritical
    }

    public func check() async -> HealthResult {
        let (host, port, timeout, slowThreshold) = (self.host, self.port, self.timeout, self.slowThreshold)
        return await withCheckedContinuation { (continuation: CheckedContinuation<HealthResult, Never>) in
            OSThread(name: "hardening-tcp-check") {
                let clock = ContinuousClock()
                let start = clock.now
                let failure = Self.connect(host: host, port: port, timeoutMilliseconds: Int32(clamping: Int64(timeout.milliseconds.rounded(.up))))
                let latency = start.duration(to: clock.now)
                let observed: Attributes = ["address": .string("\(host):\(port)")]
                if let failure {
                    continuation.resume(returning: HealthResult(status: .unhealthy, latency: latency, message: failure, observed: observed))
                } else if let slowThreshold, latency > slowThreshold {
                    continuation.resume(returning: HealthResult(status: .degraded, latency: latency,
                                                                message: "connected, slower than \(slowThreshold.milliseconds) ms", observed: observed))
                } else {
                    continuation.resume(returning: HealthResult(status: .healthy, latency: latency, message: "connected", observed: observed))
                }
            }.detach()
        }
    }

    /// Connects once; `nil` on success, else why not.
    static func connect(host: String, port: UInt16, timeoutMilliseconds: Int32) -> String? {
        var hints = addrinfo()
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else { return "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))" }
        defer { freeaddrinfo(list) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { return "cannot open a socket: \(String(cString: strerror(errno)))" }
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        if SystemCalls.connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return nil }
        guard errno == EINPROGRESS else { return "connection to \(host):\(port) failed: \(String(cString: strerror(errno)))" }
        var request = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        var ready: Int32
        repeat { ready = poll(&request, 1, timeoutMilliseconds) } while ready < 0 && errno == EINTR
        if ready == 0 { return "no answer from \(host):\(port) within \(timeoutMilliseconds) ms (timeout)" }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? nil : "connection to \(host):\(port) failed: \(String(cString: strerror(error)))"
    }
}
