import Hardening
import HardeningTestKit
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener on 127.0.0.1 for the tests, closed by its descriptor whatever happens.
private final class Listener {
    let descriptor: Int32
    let port: UInt16

    init(backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            close(fd)
            throw ListenerError()
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }
}

private struct ListenerError: Error {}

/// A check that answers after `delay` on the manual clock (cancellable, as checks must be).
private struct DelayedCheck: HealthCheck {
    let name: String
    let isCritical: Bool
    let clock: ManualClock
    let delay: Duration

    func check() async -> HealthResult {
        do {
            try await clock.sleep(for: delay)
        } catch {
            return HealthResult(status: .unhealthy, message: "cancelled")
        }
        return HealthResult(status: .healthy, latency: delay, message: "answered")
    }
}

@Suite struct HealthCheckTests {
    @Test(arguments: [
        ([(true, HealthStatus.healthy), (false, .healthy)], HealthStatus.healthy),
        ([(true, .healthy), (false, .unhealthy)], .degraded),
        ([(true, .degraded), (false, .healthy)], .degraded),
        ([(true, .unhealthy), (false, .degraded)], .unhealthy),
        ([], .healthy),
    ])
    func theOverallStatusDegradesForNonCriticalFailures(results: [(Bool, HealthStatus)], expected: HealthStatus) {
        #expect(HealthStatus.overall(results.map { (isCritical: $0.0, status: $0.1) }) == expected)
    }

    @Test func tcpCheckAgainstARealListenerThenAClosedPort() async throws {
        var listener: Listener? = try Listener()
        let port = listener!.port
        let check = TCPHealthCheck(name: "postgres", host: "127.0.0.1", port: port, timeout: .seconds(2))
        let up = await check.check()
        #expect(up.status == .healthy && up.message == "connected")
        #expect(up.observed["address"] == .string("127.0.0.1:\(port)"))
        listener = nil
        let down = await check.check()
        #expect(down.status == .unhealthy)
        #expect(down.message.contains("refused"), "\(down.message)")
        let unknown = await TCPHealthCheck(name: "x", host: "no-such-host.invalid", port: 1).check()
        #expect(unknown.status == .unhealthy && unknown.message.contains("cannot resolve"))
    }

    @Test func tcpCheckTimesOutWhenNobodyAnswers() async throws {
        // A listener whose accept queue is full drops new connection attempts: a connect hangs.
        let listener = try Listener(backlog: 0)
        var clients: [Int32] = []
        defer { for client in clients { close(client) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = listener.port.bigEndian
        for _ in 0..<4 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            clients.append(client)
        }
        let result = await TCPHealthCheck(name: "stuck", host: "127.0.0.1", port: listener.port, timeout: .milliseconds(300)).check()
        #expect(result.status == .unhealthy)
        #expect(result.message.contains("timeout"), "\(result.message)")
        #expect(result.latency >= .milliseconds(250))
    }

    @Test func diskSpaceThresholds() async {
        let fine = await DiskSpaceHealthCheck(path: "/", minimumFreeBytes: 0).check()
        #expect(fine.status == .healthy && (fine.observed["free_bytes"]?.intValue ?? 0) > 0)
        let warning = await DiskSpaceHealthCheck(path: "/", minimumFreeBytes: 0, warningFreeBytes: .max).check()
        #expect(warning.status == .degraded)
        let full = await DiskSpaceHealthCheck(path: "/", minimumFreeBytes: .max).check()
        #expect(full.status == .unhealthy && full.message.contains("below the minimum"))
        let missing = await DiskSpaceHealthCheck(path: "/no/such/dir", minimumFreeBytes: 0).check()
        #expect(missing.status == .unhealthy && missing.message.contains("cannot read free space"))
    }

    /// A source that cannot be read now (out of descriptors, say) is a degraded probe with the
    /// reason, never the keys it holds reported as missing.
    @Test func configCheckThatCannotReadItsSourcesIsDegradedNotMissingKeys() async {
        struct Unreadable: Error, CustomStringConvertible { var description: String { "open .env: Too many open files (errno 24)" } }
        let validator = ConfigValidator(rules: [ConfigRule("API_KEY", .text, help: "the key")])
        let fine = await ConfigHealthCheck(validator: validator) { ConfigSources(environment: ["API_KEY": "x"]) }.check()
        #expect(fine.status == .healthy)
        let missing = await ConfigHealthCheck(validator: validator) { ConfigSources(environment: [:]) }.check()
        #expect(missing.status == .unhealthy && missing.message.contains("API_KEY"))
        let unreadable = await ConfigHealthCheck(validator: validator) { throw Unreadable() }.check()
        #expect(unreadable.status == .degraded)
        #expect(unreadable.message.contains("Too many open files") && !unreadable.message.contains("API_KEY"), "\(unreadable.message)")
    }

    @Test func theProberTimesOutSlowChecksAndReportsEachProbe() async throws {
        let clock = ManualClock()
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [sink])
        let prober = HealthProber(checks: [
            DelayedCheck(name: "pinecone", isCritical: true, clock: clock, delay: .milliseconds(120)),
            DelayedCheck(name: "zotero", isCritical: false, clock: clock, delay: .seconds(60)),
        ], timeout: .seconds(3), clock: clock, bus: bus)
        let probes = try await clock.drive { await prober.probeAll() }.get()
        #expect(probes.map(\.name) == ["pinecone", "zotero"])
        #expect(probes[0].result.status == .healthy)
        #expect(probes[1].result.status == .unhealthy && probes[1].result.message.contains("timeout"))
        #expect(HealthProber<ManualClock>.overall(probes) == .degraded, "a non-critical failure degrades the whole")
        await bus.shutdown()
        let events = try sink.events.map { try $0.payload(as: HealthProbed.self) }
        #expect(events.map(\.check) == ["pinecone", "zotero"] && events.map(\.status) == ["healthy", "unhealthy"])
    }
}
