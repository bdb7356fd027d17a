import Hardening
import HTTPTypes
import Hummingbird
import NIOCore

/// The agent's HTTP endpoints. Health endpoints read the monitor's snapshot and never probe per
/// request; every answer is `Cache-Control: no-store`.
struct AgentRoutes: Sendable {
    let agent: Agent

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in health() }
        router.get("/health/live") { _, _ in live() }
        router.get("/health/ready") { _, _ in ready() }
        router.get("/metrics") { _, _ in metrics() }
        router.get("/summary") { _, _ in summary() }
        // HEAD: the GET answer's status and headers, without its body.
        router.head("/health") { _, _ in Self.headOf(health()) }
        router.head("/health/live") { _, _ in Self.headOf(live()) }
        router.head("/health/ready") { _, _ in Self.headOf(ready()) }
        router.head("/metrics") { _, _ in Self.headOf(metrics()) }
        router.head("/summary") { _, _ in Self.headOf(summary()) }
        // Other methods on a known path: 405 with Allow.
        for path in Self.paths {
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { _, _ in
                    Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .cacheControl: "no-store"])
                }
            }
        }
        return router
    }

    static func headOf(_ response: Response) -> Response {
        var headers = response.headers
        headers[.contentLength] = nil
        return Response(status: response.status, headers: headers)
    }

    /// Every endpoint.
    static let paths = ["/health", "/health/live", "/health/ready", "/metrics", "/summary"]

    /// As the guide's endpoint: 200 only while the snapshot is healthy, 503 otherwise (stale
    /// counts as unhealthy; `server.degraded_status: 200` answers 200 while degraded);
    /// health+json with the guide's `overall_status`, and the checks unless `server.show_details`
    /// is off.
    func health() -> Response {
        let snapshot = agent.monitor.snapshot
        let report = HealthReport(probes: snapshot.probes.map { ($0.name, $0.isCritical, $0.result) }, time: SystemWallClock().now(),
                                  overall: snapshot.overall, note: snapshot.note)
        let server = agent.configuration.server
        let code = report.httpStatusCode(degradedIsHealthy: server.degradedStatus == 200)
        return Self.json(server.showDetails ? report.json : report.verdictJSON, status: HTTPResponse.Status(code: code),
                         contentType: "application/health+json")
    }

    /// Always 200 while the process answers: never touches a dependency.
    func live() -> Response {
        Self.json(.object(["status": "pass"]), status: .ok, contentType: "application/health+json")
    }

    /// 200 when ready for traffic, 503 when shutting down or unhealthy.
    func ready() -> Response {
        let ready = agent.monitor.isReady
        return Self.json(.object(["status": .string(ready ? "pass" : "fail")]), status: ready ? .ok : .serviceUnavailable,
                         contentType: "application/health+json")
    }

    func metrics() -> Response {
        var body = agent.summarySnapshot.answers.metrics
        body.writeBytes(ServerMetricsText.exposition(agent.connections.statistics, maxConnections: agent.connections.maxConnections))
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: body))
    }

    /// The live `Summary` as of its latest background snapshot (at most `server.summary_refresh`
    /// old): never computed per request.
    func summary() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: agent.summarySnapshot.answers.summary))
    }

    static func json(_ value: AttributeValue, status: HTTPResponse.Status, contentType: String) -> Response {
        Response(status: status, headers: [.contentType: contentType, .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText + "\n")))
    }
}
