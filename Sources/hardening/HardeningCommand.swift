import ArgumentParser
import Hardening

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `hardening` command-line tool.
@main
struct HardeningCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hardening",
        abstract: "Production hardening for services: structured events, rotating gzip logs, replay.",
        discussion: """
            Events are JSON lines (one object a line, schema in schemas/). Their host field is the \
            machine's host name, or HARDENING_HOST when set (demo, generate, emit). Exit codes: 0 \
            success, 1 failure, 64 usage error.
            """,
        version: HardeningCommand.version,
        subcommands: [GenerateCommand.self, EmitCommand.self, ReplayCommand.self, ValidateConfigCommand.self, HealthCheckCommand.self, AgentCommand.self, DemoCommand.self]
    )

    /// What `hardening --version` prints: the tool's version and the event schema it writes.
    static let version = "hardening 0.8.0 (event schema \(EventKind.schemaVersion))"

    static func main() async {
        // A closed pipe must be an EPIPE error for the sinks, never a signal that kills us.
        signal(SIGPIPE, SIG_IGN)
        ShutdownSignals.catchEarly()
        do {
            var command = try parseAsRoot()
            if type(of: command) is any StopsGracefully.Type {
                ShutdownSignals.forwardToServiceGroup()
            } else {
                ShutdownSignals.restoreDefault()
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
