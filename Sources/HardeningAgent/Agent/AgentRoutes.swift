// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningOTel
import Hummingbird

/// The agent's HTTP endpoints: ``HardeningEndpoints`` over its monitor, with `/metrics` and
/// `/summary` from the background snapshot (and the server's own families after the catalogue's),
/// and the live dashboard with its event stream.
struct AgentRoutes: Sendable {
    let agent: Agent

    var endpoints: HardeningEndpoints<ContinuousClock> {
        let snapshot = agent.summarySnapshot
        let connections = agent.connections
        let stream = agent.dashboard?.stream
        let otlp = agent.exportDiagnostics
        return HardeningEndpoints(
            monitor: agent.monitor, showDetails: agent.configuration.server.showDetails,
            degradedStatus: agent.configuration.server.degradedStatus,
            metrics: {
                Array(snapshot.answers.metrics.readableBytesView)
                    + ServerMetricsText.exposition(connections.statistics, maxConnections: connections.maxConnections,
                                                   stream: stream?.statistics ?? .init(), maxStreamClients: stream?.configuration.maxClients ?? 0,
                                                   otlp: otlp?.counts)
            },
            summaryJSON: { Array(snapshot.answers.summary.readableBytesView) })
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router().addHardeningEndpoints(endpoints)
        if let dashboard = agent.dashboard { router.addHardeningDashboard(dashboard, title: "hardening agent: \(agent.configuration.service)") }
        return router
    }
}
#endif
