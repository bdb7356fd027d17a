import ArgumentParser
import Hardening
import HardeningLog
import HardeningAgent

/// `hardening agent --config FILE`: the long-running agent.
struct AgentCommand: AsyncParsableCommand, StopsGracefully {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the health monitor, the event sinks and the /health, /metrics and /summary endpoints from a configuration file.",
        discussion: """
            The configuration file is YAML (schema: docs/agent-config.md; example: examples/hardening.yaml). \
            It is checked whole before anything starts: every problem is printed with file, line and key, \
            and the agent exits 1 without starting. The configuration rules (config.rules, config.preset) \
            are checked too; a problem stops the start the same way.

            Endpoints (127.0.0.1 by default): /health (200 or 503, application/health+json), /health/live, \
            /health/ready, /metrics (Prometheus text), /summary (the live summary as JSON), /dashboard (a \
            live page in a browser) and /events/stream (server-sent events; ?kinds=health.*,breaker.* \
            filters them; a client that reads too slowly is dropped). The line \
            "listening on http://HOST:PORT" goes to stderr once the server accepts connections.

            The server closes a connection idle for server.idle_timeout, a request head not complete \
            server.header_timeout after its first byte, and a request not answered in full within \
            server.request_timeout; past server.max_connections the connection idle the longest is shed. \
            /summary is rebuilt every server.summary_refresh, never per request.

            SIGTERM or SIGINT: readiness turns failing, probes stop, in-flight requests are answered, queued \
            alerts are posted, every event is written, and the agent exits 0 (within shutdown_timeout).

            Exit codes: 0 stopped cleanly; 1 configuration problems or a failure; 64 usage error.
            """
    )

    @Option(help: "The agent configuration file (YAML).")
    var config: String

    @Option(help: "Override server.port (0 picks a free port).")
    var port: Int?

    func run() async throws {
        var configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration.load(path: config, environment: ProcessEnvironment.current)
        } catch let error as AgentConfigurationError {
            FileHandleStandardError.write("hardening agent: \(error)\n")
            throw ExitCode(1)
        }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
            configuration.server.port = port
        }
        let report = ConfigValidator(rules: configuration.validation.allRules).validate(configuration.sources)
        guard report.passed else {
            FileHandleStandardError.write("hardening agent: the configuration rules failed; nothing was started.\n" + report.text)
            throw ExitCode(1)
        }
        // Connections, probes and files all take descriptors: the agent uses what the hard limit
        // allows (server.max_connections keeps clients to their share).
        DescriptorLimit.raiseToHardLimit()
        if let files = configuration.events.files { try FileSinkOptions.refuseIfWritten(files, command: "agent") }
        let agent = Agent(configuration: configuration)
        // Checked before anything started; recorded once the bus exists.
        for finding in report.findings { agent.bus.emit(finding.event) }
        let listening = Locked(false)
        do {
            try await agent.run { host, port in
                listening.withLock { $0 = true }
                FileHandleStandardError.write("hardening agent: listening on http://\(host):\(port)\n")
            }
        } catch where !listening.withLock({ $0 }) {
            // Most often the port is taken: say which address, and what to do.
            let address = "\(configuration.server.host):\(configuration.server.port)"
            let inUse = "\(error)".contains("Address already in use") || "\(error)".contains("errno: 98")
            FileHandleStandardError.write("hardening agent: cannot listen on \(address): "
                                          + (inUse ? "the address is in use by another process; free it, or set server.port (0 picks a free port)"
                                                   : "\(error)") + "\n")
            throw ExitCode(1)
        }
        // What the files could not take (a directory turned read-only, a full disk) is said at
        // exit, and the exit is a failure: pending events are never silently gone.
        if let files = agent.fileSink { try FileSinkOptions.failIfLost(files, command: "agent") }
        let losses = OutputOptions.sinkLosses(agent.bus)
        if !losses.isEmpty { FileHandleStandardError.write("hardening agent: at exit" + losses + "\n") }
    }
}
