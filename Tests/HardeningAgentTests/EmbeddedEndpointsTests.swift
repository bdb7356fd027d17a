import AsyncHTTPClient
import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// The example application mounts the endpoints in its own Hummingbird router, over its own bus,
/// breaker and monitor: a real process whose breaker opens while they answer.
@Suite struct EmbeddedEndpointsTests {
    @Test func theExampleAppAnswersItsEndpointsWhileItsOwnBreakerOpens() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let executable = URL(fileURLWithPath: ChildProcess.hardeningExecutable).deletingLastPathComponent()
            .appendingPathComponent("hardening-example-app").path
        // Port 1 on loopback: the upstream refuses every call.
        let child = try AgentProcessTests.AgentChild(executable: executable, arguments: ["--port", "0", "--upstream", "http://127.0.0.1:1/search"],
                                                     directory: directory.path, environment: [:])
        let port = try await child.port()
        let base = "http://127.0.0.1:\(port)"
        try await HTTPHealthCheckTests.withClient { client in
            var health = try await eventually { try await AgentProcessTests.get(client, base + "/health") } until: { $0.status == 200 }
            #expect(health.status == 200 && health.body.contains(#""overall_status":"healthy""#), "\(health.body)")
            for _ in 0..<4 {
                let search = try await AgentProcessTests.get(client, base + "/search?q=x")
                #expect(search.status == 200 && search.body == "[]", "the fallback answers: \(search.body)")
            }
            // The breaker is open: the service is degraded, and /health answers 503 as the guide's.
            health = try await eventually { try await AgentProcessTests.get(client, base + "/health") } until: { $0.status == 503 }
            #expect(health.status == 503, "\(health.body)")
            let document = try JSONDocument.parse(Array(health.body.utf8))
            #expect(document["overall_status"] == "degraded" && document["services"]?["breaker:search-index"]?["status"] == "degraded",
                    "\(health.body)")
            #expect(try await AgentProcessTests.get(client, base + "/health/live").status == 200)
            // The app keeps the production detail: the fallbacks after the first are counted when
            // their window ends (10 s), then /metrics shows all four.
            let metrics = try await eventually(timeout: .seconds(40)) { try await AgentProcessTests.get(client, base + "/metrics") } until: {
                $0.body.contains(#"hardening_operation_fallbacks_total{operation="search"} 4"#)
            }
            #expect(metrics.contentType.hasPrefix("text/plain; version=0.0.4"))
            #expect(metrics.body.contains(#"hardening_breaker_state{breaker="search-index",state="open"} 1"#), "\(metrics.body)")
            #expect(metrics.body.contains(#"hardening_operation_fallbacks_total{operation="search"} 4"#), "\(metrics.body)")
            let dashboard = try await AgentProcessTests.get(client, base + "/dashboard/view")
            #expect(dashboard.status == 200 && dashboard.body.contains("<td>search-index</td><td>open</td>"), "\(dashboard.body.prefix(2000))")
            var post = HTTPClientRequest(url: base + "/events/stream")
            post.method = .POST
            let refused = try await client.execute(post, timeout: .seconds(10))
            #expect(refused.status.code == 405 && refused.headers.first(name: "allow") == "GET, HEAD")
            let summary = try await AgentProcessTests.get(client, base + "/summary")
            #expect(summary.status == 200 && summary.contentType == "application/json")
            #expect(try JSONDocument.parse(Array(summary.body.utf8))["breakers"]?["search-index"] != nil, "\(summary.body.prefix(300))")
        }
        #expect(try await child.terminate() == 0, "\(child.stderr)")
        #expect(child.stdout.contains(#""event":"breaker.state_changed""#), "its events on its own stdout")
    }
}
