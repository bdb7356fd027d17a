import AsyncHTTPClient
import Hardening
import HardeningAgent
import HardeningTestKit
import HardeningTestSupport
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// The HTTP check against real servers on 127.0.0.1: healthy, slow (timeout), wrong status,
/// refused, unreadable bodies, and a flapping dependency that fires and resolves an alert.
@Suite struct HTTPHealthCheckTests {
    static let secret = "pcsk_health_check_secret_0123456789"

    static func router(script: Locked<[Int]> = Locked([])) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/stats") { request, _ -> Response in
            guard request.headers[HTTPField.Name("Api-Key")!] == secret else { return Response(status: .unauthorized) }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"totalVectorCount": 42, "namespaces": {"docs": {"vectorCount": 7}}, "list": [1, 2]}"#)))
        }
        router.get("/slow") { _, _ -> Response in
            try await Task.sleep(for: .seconds(3))
            return Response(status: .ok)
        }
        router.get("/unavailable") { _, _ in Response(status: .serviceUnavailable) }
        router.get("/text") { _, _ in Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "not json"))) }
        router.get("/flap") { _, _ -> Response in
            let status = script.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            return Response(status: HTTPResponse.Status(code: status))
        }
        return router
    }

    /// Runs `body` with a probing client, on a thread of its own (the task and its children, the
    /// probes' time limits included): the parallel tests' CPU-bound work can hold the concurrency
    /// pool for longer than a probe's limit, and a probe's answer then waited behind it while its
    /// timer fired (a CPU-hog run saw the first probe time out after 20 s).
    static func withClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        let executor = ThreadTaskExecutor(name: "probing-client")
        defer { executor.shutdown() }
        return try await withTaskExecutorPreference(executor) {
            let client = HTTPHealthCheck.probingClient()
            do {
                let result = try await body(client)
                try await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    /// A password with `#` or `?` in a check URL's user info (a `${DB_PW}` the configuration
    /// expanded): the request goes to the host, and no part of the password reaches the result.
    @Test(arguments: ["hun#ter2pass", "hunter2?pass", "hun#ter?2pass@"])
    func aPasswordWithURLDelimitersStaysWholeAndUnseen(password: String) async throws {
        try await TestServer.with(Self.router()) { port in
            try await Self.withClient { client in
                let check = HTTPHealthCheck(name: "db", url: "http://app:\(password)@127.0.0.1:\(port)/unavailable?api_key=querysecret",
                                            secrets: [password], client: client)
                let result = await check.check()
                #expect(result.message == "HTTP 503, expected 200-299", "the request reached the server: \(result.message)")
                #expect(result.observed["url"] == .string("http://127.0.0.1:\(port)/unavailable"))
                let everything = "\(result)"
                for piece in ["hun", "ter2", "pass", "querysecret"] { #expect(!everything.contains(piece), "\(piece) in \(everything)") }
            }
        }
    }

    @Test func aHealthyEndpointReportsTheObservedFieldAndSendsTheSecretHeader() async throws {
        try await TestServer.with(Self.router()) { port in
            try await Self.withClient { client in
                let check = HTTPHealthCheck(name: "pinecone", url: "http://user:pw@127.0.0.1:\(port)/stats?api_key=querysecret",
                                            headers: [("Api-Key", Self.secret)],
                                            observe: .init(path: "namespaces.docs.vectorCount", name: "vectors"), client: client)
                let result = await check.check()
                #expect(result.status == .healthy, "\(result.message)")
                #expect(result.message == "HTTP 200")
                #expect(result.observed["vectors"] == .int(7))
                #expect(result.observed["status_code"] == .int(200))
                #expect(result.observed["url"] == .string("http://127.0.0.1:\(port)/stats"))
                #expect(result.latency > .zero)
                let everything = "\(result)"
                for leaked in [Self.secret, "querysecret", "pw@"] { #expect(!everything.contains(leaked)) }

                let arrayField = HTTPHealthCheck(name: "p", url: "http://127.0.0.1:\(port)/stats", headers: [("Api-Key", Self.secret)],
                                                 observe: .init(path: "list.1"), client: client)
                #expect(await arrayField.check().observed["1"] == .int(2))
                let withoutKey = HTTPHealthCheck(name: "p", url: "http://127.0.0.1:\(port)/stats", client: client)
                let refusedKey = await withoutKey.check()
                #expect(refusedKey.status == .unhealthy && refusedKey.message == "HTTP 401, expected 200-299")
            }
        }
    }

    @Test func aSlowEndpointIsATimeoutThatSaysSo() async throws {
        try await TestServer.with(Self.router()) { port in
            try await Self.withClient { client in
                let check = HTTPHealthCheck(name: "slow", url: "http://127.0.0.1:\(port)/slow", timeout: .milliseconds(300), client: client)
                // The server answers 200 after 3 s: an unhealthy "timeout" proves the limit cut it.
                let result = await check.check()
                #expect(result.status == .unhealthy)
                #expect(result.message.contains("timeout"), "\(result.message)")
                // (No bound on the latency itself: a loaded machine stretches it; the verdict is the proof.)
                // The prober's own limit, shorter than the check's, also ends it and says so.
                let prober = HealthProber(checks: [HTTPHealthCheck(name: "slow", url: "http://127.0.0.1:\(port)/slow", client: client)],
                                          timeout: .milliseconds(200))
                let probe = try #require(await prober.probeAll().first)
                #expect(probe.result.status == .unhealthy && probe.result.message.contains("timeout"), "\(probe.result.message)")
            }
        }
    }

    @Test func wrongStatusRefusedAndUnreadableBodiesAreUnhealthyWithTheReason() async throws {
        try await TestServer.with(Self.router()) { port in
            try await Self.withClient { client in
                let unavailable = await HTTPHealthCheck(name: "u", url: "http://127.0.0.1:\(port)/unavailable", client: client).check()
                #expect(unavailable.status == .unhealthy && unavailable.message == "HTTP 503, expected 200-299")
                let allowed = await HTTPHealthCheck(name: "u", url: "http://127.0.0.1:\(port)/unavailable", expectedStatuses: [200, 503],
                                                    client: client).check()
                #expect(allowed.status == .healthy)
                let text = await HTTPHealthCheck(name: "t", url: "http://127.0.0.1:\(port)/text", observe: .init(path: "count"),
                                                 client: client).check()
                #expect(text.status == .unhealthy && text.message.hasPrefix("HTTP 200, but the body is not JSON"), "\(text.message)")
                let missing = await HTTPHealthCheck(name: "m", url: "http://127.0.0.1:\(port)/stats", headers: [("Api-Key", Self.secret)],
                                                    observe: .init(path: "namespaces.other.vectorCount"), client: client).check()
                #expect(missing.status == .unhealthy && missing.message.contains("no field 'namespaces.other'"), "\(missing.message)")
                let slowThreshold = await HTTPHealthCheck(name: "s", url: "http://127.0.0.1:\(port)/stats", headers: [("Api-Key", Self.secret)],
                                                          slowThreshold: .zero, client: client).check()
                #expect(slowThreshold.status == .degraded && slowThreshold.message.contains("slower than"))
            }
        }
        try await Self.withClient { client in
            let refused = await HTTPHealthCheck(name: "r", url: "http://127.0.0.1:1/health", timeout: .seconds(2), client: client).check()
            #expect(refused.status == .unhealthy)
            #expect(refused.message.contains("refused"), "\(refused.message)")
        }
    }

    @Test func aFlappingDependencyFiresAnAlertAndResolvesIt() async throws {
        // ok, fail, fail (fires at the second failure in a row), fail, ok, ok (resolves), ok
        let script = Locked([200, 503, 503, 503, 200, 200, 200])
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "flap", volume: .full), sinks: [sink])
        try await TestServer.with(Self.router(script: script)) { port in
            try await Self.withClient { client in
                // Generous limits: this is about the alert's logic, and the whole suite may load both cores.
                let check = HTTPHealthCheck(name: "llm", url: "http://127.0.0.1:\(port)/flap", timeout: .seconds(20), client: client)
                let alerts = HealthAlerts(rules: [AlertRule(name: "down", trigger: .consecutiveFailures(2), resolveAfterSuccesses: 2)], bus: bus)
                let monitor = HealthMonitor(prober: HealthProber(checks: [check], timeout: .seconds(20), bus: bus), interval: .seconds(1),
                                            alerts: alerts, bus: bus)
                var firingAfter: [Bool] = []
                for _ in 0..<7 {
                    await monitor.round()
                    firingAfter.append(!alerts.firing.isEmpty)
                }
                #expect(firingAfter == [false, false, true, true, true, false, false])
            }
        }
        await bus.shutdown()
        let kinds: [EventKind] = sink.events.map(\.kind)
        let fired = kinds.filter { $0 == EventKind.alertFired }.count
        let resolved = kinds.filter { $0 == EventKind.alertResolved }.count
        #expect(fired == 1 && resolved == 1)
        #expect(sink.events.filter { $0.kind == .healthProbed }.count == 7)
        let changes = sink.events.filter { $0.kind == .healthChanged }.compactMap { try? $0.payload(as: HealthChanged.self) }
        #expect(changes.filter { $0.check == "llm" }.map(\.to) == ["unhealthy", "healthy"])
    }
}
