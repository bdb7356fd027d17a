// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningLog

/// What `hardening agent --config FILE` runs: the file as typed values. See
/// `docs/agent-config.md` for the schema and `examples/hardening.yaml` for an example.
///
/// Values like `${OPENAI_API_KEY}` (in HTTP headers and the webhook) are read from the
/// environment, then from the `.env` file named in `config.env_file`; they are secrets: sent where
/// they belong, redacted from every event, never printed.
public struct AgentConfiguration: Sendable {
    /// The HTTP server.
    public struct Server: Sendable, Hashable {
        /// Address to bind; loopback by default.
        public var host = "127.0.0.1"
        /// Port; 0 picks a free one (printed at start).
        public var port = 9464
        /// Whether `/health` lists the checks, as the guide's endpoint does (else only the verdict).
        public var showDetails = true
        /// `/health`'s status code while degraded (a non-critical check failing): 503 as the guide
        /// answers (200 only when healthy), or 200 to keep degraded services in rotation.
        public var degradedStatus = 503
        /// A connection that sends and receives nothing for this long is closed by the server (idle
        /// keep-alive connections, clients that connect and never speak).
        public var idleTimeout: Duration = .seconds(30)
        /// A request whose head (request line and headers) has not arrived this long after its
        /// first byte is closed: one byte a second (slowloris) cannot hold a connection.
        public var headerTimeout: Duration = .seconds(10)
        /// A request not answered in full this long after its head arrived (a body sent slowly, a
        /// reader that never reads the answer) is closed.
        public var requestTimeout: Duration = .seconds(30)
        /// The most connections held at once; one more sheds the connection idle the longest (or
        /// is refused when none is idle), so that no client can take every descriptor.
        public var maxConnections = 512
        /// How often `/summary` is rebuilt in the background; every answer is at most this old
        /// and costs no more than a copy.
        public var summaryRefresh: Duration = .seconds(1)
        /// Whether the live `/dashboard`, `/dashboard/view` and `/events/stream` are served (off:
        /// 404, and nothing of theirs runs).
        public var dashboard = true
        /// The most `/events/stream` clients at once; more are answered 503.
        public var streamClients = 64
        /// The most bytes waiting for one `/events/stream` client before it is dropped.
        public var streamClientQueueBytes = 1 << 20
    }

    /// Where events go.
    public struct Events: Sendable, Hashable {
        /// `json`, `human`, `auto` (human on a terminal, JSON otherwise) or `off`.
        public var stdout = "json"
        /// The longest stdout line, newline included (16 KiB: container runtimes split longer ones).
        public var stdoutMaxLineBytes = StdoutSink.defaultMaxLineBytes
        /// The lowest level written to stdout (`stdout_level`; every level by default).
        public var stdoutLevel = EventLevel.trace
        /// The detail (`detail`: `production` or `full`), the window (`window`) and the level of
        /// each kind (`kinds`: `{retry.succeeded: notice, health.probed: off}`).
        public var volume = EventVolume.production
        /// The rotating files (every setting of the file sink, with `hardening generate`'s flag
        /// names in snake case); `nil`: no files. The directory is resolved against the
        /// configuration file's folder.
        public var files: RotatingFileSink.Configuration?
    }

    /// One health check as configured.
    public struct Check: Sendable {
        /// What to probe.
        public enum Kind: Sendable {
            /// An HTTP endpoint.
            case http(url: String, method: String, headers: [(name: String, value: String)], expectedStatuses: Set<Int>,
                      observe: (path: String, name: String?)?)
            /// A TCP port.
            case tcp(host: String, port: UInt16)
            /// Free space on a path's file system.
            case disk(path: String, minimumFreeBytes: UInt64)
            /// The agent's own event sinks.
            case sinks
            /// The configuration rules (re-read every round).
            case configuration
            /// One of the agent's breakers (`webhook`).
            case breaker(String)
        }

        /// The check's name.
        public var name: String
        /// What to probe.
        public var kind: Kind
        /// Whether a failure fails the whole (else it degrades it).
        public var isCritical = true
        /// Slower than this is degraded.
        public var slowThreshold: Duration?
        /// This check's own time limit (HTTP, TCP); `nil`: `health.timeout`.
        public var timeout: Duration?
        /// The key path in the file, for problems found later.
        public var keyPath: String
    }

    /// The health monitor.
    public struct Health: Sendable {
        /// The prober's limit: the longest of `timeout` and the checks' own.
        public var proberTimeout: Duration { checks.compactMap(\.timeout).reduce(timeout, max) }

        /// Time between rounds.
        public var interval: Duration = .seconds(15)
        /// The most one probe may take.
        public var timeout: Duration = .seconds(5)
        /// A probe slower than this is logged as slow.
        public var slowProbe: Duration?
        /// The checks.
        public var checks: [Check] = []
    }

    /// Where alerts are posted.
    public struct Webhook: Sendable {
        /// The URL (a secret may be in it; it is shown without query and user info).
        public var url: String
        /// Request headers (values may be secrets).
        public var headers: [(name: String, value: String)] = []
        /// The most one POST may take.
        public var timeout: Duration = .seconds(5)
        /// Attempts per alert.
        public var attempts = 4
    }

    /// Alerting.
    public struct Alerts: Sendable {
        /// The rules, applied to every check.
        public var rules: [AlertRule] = []
        /// Where to POST alerts, if anywhere.
        public var webhook: Webhook?
    }

    /// Configuration validation.
    public struct Validation: Sendable {
        /// The `.env` file (relative to the configuration file).
        public var envFile: String?
        /// A rule preset (`rag`).
        public var preset: String?
        /// Rules declared in the file.
        public var rules: [ConfigRule] = []
        /// Names of health checks that `validate-config` runs as connectivity checks.
        public var connectivity: [String] = []

        /// Preset rules, then the file's (a file rule replaces a preset rule of the same key).
        public var allRules: [ConfigRule] {
            let presetRules = preset == "rag" ? ConfigRule.ragService : []
            let own = Set(rules.map(\.key))
            return presetRules.filter { !own.contains($0.key) } + rules
        }
    }

    /// OTLP export of the agent's spans (health probes, the webhook's calls).
    public struct OTLP: Sendable, Hashable {
        /// The collector's OTLP/HTTP base address (`http://host:4318`).
        public var endpoint: String
        /// The most one export may take, and the most the exporter takes to stop.
        public var exportTimeout: Duration = .seconds(5)

        /// Export to `endpoint`.
        public init(endpoint: String) { self.endpoint = endpoint }
    }

    /// The `service` field of events.
    public var service = "hardening-agent"
    /// Service level objectives of its operations (`objectives:`, such as `search=99.9%` or
    /// `search:p99<300ms`), which `hardening replay --config` measures on the agent's logs.
    package var objectives: [Objective] = []
    /// The period their error budget covers (`objective_period`, 30 days unless set).
    package var objectivePeriod: Duration = .seconds(30 * 86_400)
    public var server = Server()
    public var events = Events()
    public var health = Health()
    public var alerts = Alerts()
    public var validation = Validation()
    /// `otlp`: spans over OTLP/HTTP; `nil`: no export (with it, the `OTEL_*` variables apply over it).
    public var otlp: OTLP?
    /// The most a graceful shutdown may take before the remaining work is cancelled.
    public var shutdownTimeout: Duration = .seconds(10)
    /// How long the server keeps answering after readiness turns failing at shutdown.
    public var shutdownDrain: Duration = .zero
    /// The configuration file, as given.
    public var file: String = ""
    /// Values of `${VAR}` references: the secrets to redact everywhere.
    public var secrets: [String] = []
    /// Where configuration values come from (environment, then `config.env_file`).
    public var sources = ConfigSources(environment: [:])

    /// An empty configuration (the defaults).
    public init() {}
}
#endif
