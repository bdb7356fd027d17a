/// The answers of `/health`, `/health/live`, `/health/ready`, `/metrics` and `/summary` for any
/// HTTP server, over an application's own monitor and live summary: a status, headers and a body
/// per request, nothing framework-specific. `HardeningAgent` mounts them on a Hummingbird router
/// (`addHardeningEndpoints`); the agent serves the same.
///
/// Health answers read the monitor's snapshot and never probe per request; every answer is
/// `Cache-Control: no-store`; `HEAD` is the `GET` answer without its body; another method on one
/// of these paths is 405 with `Allow: GET, HEAD`.
public struct HardeningEndpoints<C: Clock>: Sendable where C.Duration == Duration {
    /// One answer.
    public struct Answer: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// Header fields, in order.
        public var headers: [(name: String, value: String)]
        /// The body.
        public var body: [UInt8]

        /// Creates an answer.
        public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// The paths answered.
    public static var paths: [String] { ["/health", "/health/live", "/health/ready", "/metrics", "/summary"] }

    /// The monitor whose snapshot `/health` and `/health/ready` read.
    public let monitor: HealthMonitor<C>
    /// Whether `/health` lists the checks (else only the verdict).
    public var showDetails: Bool
    /// `/health`'s status while degraded: 503 as the guide answers, or 200.
    public var degradedStatus: Int
    private let metricsBody: @Sendable () -> [UInt8]
    private let summaryBody: @Sendable () -> [UInt8]
    private let wallClock: any WallClock

    /// Endpoints over `monitor`, with `/metrics` and `/summary` built from `summary` at each
    /// request (the agent, which can be polled hard, passes bodies it rebuilds in the background).
    public init(monitor: HealthMonitor<C>, summary: SummarySink, showDetails: Bool = true, degradedStatus: Int = 503,
                wallClock: any WallClock = SystemWallClock()) {
        self.init(monitor: monitor, showDetails: showDetails, degradedStatus: degradedStatus, wallClock: wallClock,
                  metrics: { Array(summary.summary.prometheusExposition.utf8) }, summaryJSON: { Array((summary.summary.jsonText + "\n").utf8) })
    }

    /// Endpoints over `monitor`, with the bodies of `/metrics` and `/summary` from the closures.
    public init(monitor: HealthMonitor<C>, showDetails: Bool = true, degradedStatus: Int = 503, wallClock: any WallClock = SystemWallClock(),
                metrics: @escaping @Sendable () -> [UInt8], summaryJSON: @escaping @Sendable () -> [UInt8]) {
        self.monitor = monitor
        self.showDetails = showDetails
        self.degradedStatus = degradedStatus
        self.wallClock = wallClock
        self.metricsBody = metrics
        self.summaryBody = summaryJSON
    }

    /// The answer to `method` on `path`, or `nil` when the path is not one of ``paths``.
    public func answer(method: String, path: String) -> Answer? {
        let get: () -> Answer
        switch path {
        case "/health": get = health
        case "/health/live": get = live
        case "/health/ready": get = ready
        case "/metrics": get = metrics
        case "/summary": get = summary
        default: return nil
        }
        switch method.uppercased() {
        case "GET": return get()
        case "HEAD":
            var answer = get()
            answer.body = []
            return answer
        default:
            return Answer(status: 405, headers: [("Allow", "GET, HEAD"), ("Cache-Control", "no-store")], body: [])
        }
    }

    /// As the guide's endpoint: 200 only while healthy (``degradedStatus`` while degraded), 503
    /// otherwise, stale included; `application/health+json` with `overall_status`.
    public func health() -> Answer {
        let snapshot = monitor.snapshot
        let report = HealthReport(probes: snapshot.probes.map { ($0.name, $0.isCritical, $0.result) }, time: wallClock.now(),
                                  overall: snapshot.overall, note: snapshot.note)
        return json(showDetails ? report.json : report.verdictJSON, status: report.httpStatusCode(degradedIsHealthy: degradedStatus == 200))
    }

    /// Always 200 while the process answers: never touches a dependency.
    public func live() -> Answer { json(.object(["status": "pass"]), status: 200) }

    /// 200 when ready for traffic, 503 when shutting down or unhealthy.
    public func ready() -> Answer {
        let ready = monitor.isReady
        return json(.object(["status": .string(ready ? "pass" : "fail")]), status: ready ? 200 : 503)
    }

    /// The live summary through the metric catalogue (Prometheus text 0.0.4).
    public func metrics() -> Answer {
        Answer(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), ("Cache-Control", "no-store")],
               body: metricsBody())
    }

    /// The live summary as JSON.
    public func summary() -> Answer {
        Answer(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body: summaryBody())
    }

    private func json(_ value: AttributeValue, status: Int) -> Answer {
        Answer(status: status, headers: [("Content-Type", "application/health+json"), ("Cache-Control", "no-store")],
               body: Array((value.jsonText + "\n").utf8))
    }
}
