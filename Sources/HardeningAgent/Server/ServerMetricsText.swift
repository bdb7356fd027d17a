// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningOTel

/// The agent's HTTP server in `/metrics`: open connections, what the connection guards did, and
/// the event stream's clients, and what the OTLP exporter could not send.
/// These families are the agent's own, after those of `MetricCatalogue`.
package enum ServerMetricsText {
    static let connections = MetricFamily("hardening_server_connections", .gauge, help: "Connections open to the agent's HTTP server.")
    static let maxConnections = MetricFamily("hardening_server_connections_max", .gauge,
                                             help: "The server's connection limit (server.max_connections).")
    static let shed = MetricFamily("hardening_server_connections_shed_total", .counter,
                                   help: "Idle connections closed to make room for a new one.")
    static let refused = MetricFamily("hardening_server_connections_refused_total", .counter,
                                      help: "New connections refused because every connection was busy.")
    static let timeouts = MetricFamily("hardening_server_timeouts_total", .counter,
                                       help: "Connections closed by the header or the request timeout.", labels: ["phase"])

    static let streamClients = MetricFamily("hardening_stream_clients", .gauge, help: "Clients of /events/stream connected now.")
    static let streamClientsMax = MetricFamily("hardening_stream_clients_max", .gauge, help: "The most /events/stream clients at once.")
    static let streamConnected = MetricFamily("hardening_stream_clients_connected_total", .counter, help: "Clients of /events/stream ever connected.")
    static let streamDropped = MetricFamily("hardening_stream_clients_dropped_total", .counter,
                                            help: "Clients of /events/stream dropped because they read too slowly (their queue was full).")
    static let streamRefused = MetricFamily("hardening_stream_clients_refused_total", .counter,
                                            help: "Clients of /events/stream refused because the most were connected.")
    static let streamEvents = MetricFamily("hardening_stream_events_total", .counter, help: "Events queued for /events/stream clients (one per client).")
    static let otlpFailures = MetricFamily("hardening_otlp_export_failures_total", .counter,
                                           help: "OTLP exports that failed (receiver down, too slow, an HTTP error), by signal.", labels: ["signal"])
    static let otlpDropped = MetricFamily("hardening_otlp_dropped_total", .counter,
                                          help: "Spans or records the OTLP exporter dropped because its queue was full, by signal.", labels: ["signal"])

    /// Every family, in exposition order.
    package static let all = [connections, maxConnections, shed, refused, timeouts, streamClients, streamClientsMax, streamConnected, streamDropped,
                              streamRefused, streamEvents, otlpFailures, otlpDropped]

    static func exposition(_ statistics: ConnectionLimiter.Statistics, maxConnections: Int, stream: EventStreamHub.Statistics,
                           maxStreamClients: Int, otlp: ExportDiagnostics.Counts? = nil) -> [UInt8] {
        var out = PrometheusExposition()
        out.family(connections, [([], Double(statistics.open))])
        out.family(Self.maxConnections, [([], Double(maxConnections))])
        out.family(shed, [([], Double(statistics.shed))])
        out.family(refused, [([], Double(statistics.refused))])
        out.family(timeouts, [(["header"], Double(statistics.headerTimeouts)), (["request"], Double(statistics.requestTimeouts))])
        out.family(streamClients, [([], Double(stream.clients))])
        out.family(streamClientsMax, [([], Double(maxStreamClients))])
        out.family(streamConnected, [([], Double(stream.connected))])
        out.family(streamDropped, [([], Double(stream.dropped))])
        out.family(streamRefused, [([], Double(stream.refused))])
        out.family(streamEvents, [([], Double(stream.eventsQueued))])
        // With export on, every signal the agent exports shows, at zero until something fails.
        let signals = otlp.map { Set(["traces"]).union($0.failedExports.keys).union($0.dropped.keys).sorted() } ?? []
        out.family(otlpFailures, signals.map { ([$0], Double(otlp?.failedExports[$0] ?? 0)) })
        out.family(otlpDropped, signals.map { ([$0], Double(otlp?.dropped[$0] ?? 0)) })
        return Array(out.text.utf8)
    }
}
#endif
