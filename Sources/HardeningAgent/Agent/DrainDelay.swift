// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import ServiceLifecycle

/// Holds graceful shutdown for a while between the health monitor (readiness already failing)
/// and the HTTP server (still answering), so that a load balancer polling `/health/ready` sees
/// the agent leave before its connections are refused. Cancellation ends the wait at once.
struct DrainDelay: Service {
    let duration: Duration

    func run() async throws {
        try? await gracefulShutdown()
        guard duration > .zero, !Task.isCancelled else { return }
        try? await Task.sleep(for: duration)
    }
}
#endif
