// An application that mounts swift-hardening's endpoints in its own Hummingbird router, over
// its own bus, breaker and health monitor: what a service does instead of running the agent.
//
//   swift run hardening-example-app [--host ADDRESS] [--port N] [--upstream URL]
//
// `--host` is 127.0.0.1 by default; in a container, 0.0.0.0 (the kubelet's probes come to the
// pod's address).
//
// `GET /search?q=…` calls the upstream through a circuit breaker (three failures open it for
// 30 s) and answers from a fallback while it is open; `/health` turns 503 while the breaker is
// not closed (the breaker check degrades the service; the guide's /health is 200 only when
// healthy), `/metrics` shows the breaker's state, `/summary` the live summary, `/dashboard` the
// live page over `/events/stream` (as the agent's).
import AsyncHTTPClient
import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import Hummingbird
import Logging
import NIOHTTP1
import ServiceLifecycle
import UnixSignals

@main
struct ExampleApp {
    static func main() async throws {
        var host = "127.0.0.1"
        var port = 8080
        var upstream = "http://127.0.0.1:1/search"
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            switch argument {
            case "--host": host = arguments.popFirst() ?? host
            case "--port": port = Int(arguments.popFirst() ?? "") ?? port
            case "--upstream": upstream = arguments.popFirst() ?? upstream
            default:
                FileHandle.standardError.write(Data("usage: hardening-example-app [--host ADDRESS] [--port N] [--upstream URL]\n".utf8))
                exit(64)
            }
        }
        try await run(host: host, port: port, upstream: upstream)
    }

    static func run(host: String, port: Int, upstream: String) async throws {
        let summary = SummarySink()
        let dashboard = LiveDashboard(summary: summary)
        let bus = EventBus(configuration: .init(service: "example-app"), sinks: [summary, StdoutSink(format: .json)] + dashboard.sinks)
        let breaker = CircuitBreaker(name: "search-index", failureThreshold: 3, recoveryTimeout: .seconds(30), bus: bus)
        let monitor = HealthMonitor(prober: HealthProber(checks: [BreakerHealthCheck(breaker: breaker)], timeout: .seconds(1), bus: bus),
                                    interval: .milliseconds(200), bus: bus)
        let timing = Timing(clock: ContinuousClock(), bus: bus)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let fallback = Fallback<String>().otherwise(name: "no_results") { _ in "[]" }

        let router = Router()
        router.addHardeningEndpoints(HardeningEndpoints(monitor: monitor, summary: summary))
        router.addHardeningDashboard(dashboard, title: "example-app")
        router.get("/search") { _, _ -> String in
            try await timing.timed("search") {
                try await fallback.run("search", bus: bus) {
                    try await breaker.call {
                        let response = try await client.execute(HTTPClientRequest(url: upstream), timeout: .seconds(2))
                        guard response.status == .ok else { throw UpstreamError(status: Int(response.status.code)) }
                        return String(buffer: try await response.body.collect(upTo: 1 << 20))
                    }
                }
            }
        }

        let logger = Logger(label: "example-app")
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                FileHandle.standardError.write(Data("listening on http://\(host):\(channel.localAddress?.port ?? port)\n".utf8))
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [bus, monitor, application, dashboard], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        do {
            try await group.run()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

struct UpstreamError: Error {
    var status: Int
}
