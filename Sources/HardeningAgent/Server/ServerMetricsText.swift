/// The agent's HTTP server in `/metrics`: open connections and what the connection guards did.
enum ServerMetricsText {
    static func exposition(_ statistics: ConnectionLimiter.Statistics, maxConnections: Int) -> [UInt8] {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int64)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        family("hardening_server_connections", "gauge", "Connections open to the agent's HTTP server.", [("", Int64(statistics.open))])
        family("hardening_server_connections_max", "gauge", "The server's connection limit (server.max_connections).",
               [("", Int64(maxConnections))])
        family("hardening_server_connections_shed_total", "counter", "Idle connections closed to make room for a new one.",
               [("", statistics.shed)])
        family("hardening_server_connections_refused_total", "counter", "New connections refused because every connection was busy.",
               [("", statistics.refused)])
        family("hardening_server_timeouts_total", "counter", "Connections closed by the header or the request timeout.",
               [(#"{phase="header"}"#, statistics.headerTimeouts), (#"{phase="request"}"#, statistics.requestTimeouts)])
        return Array(text.utf8)
    }
}
