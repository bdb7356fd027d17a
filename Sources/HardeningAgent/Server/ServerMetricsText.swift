import Hardening

/// The agent's HTTP server in `/metrics`: open connections and what the connection guards did.
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

    /// Every family, in exposition order.
    package static let all = [connections, maxConnections, shed, refused, timeouts]

    static func exposition(_ statistics: ConnectionLimiter.Statistics, maxConnections: Int) -> [UInt8] {
        var out = PrometheusExposition()
        out.family(connections, [([], Double(statistics.open))])
        out.family(Self.maxConnections, [([], Double(maxConnections))])
        out.family(shed, [([], Double(statistics.shed))])
        out.family(refused, [([], Double(statistics.refused))])
        out.family(timeouts, [(["header"], Double(statistics.headerTimeouts)), (["request"], Double(statistics.requestTimeouts))])
        return Array(out.text.utf8)
    }
}
