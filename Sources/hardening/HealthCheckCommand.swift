import ArgumentParser
import AsyncHTTPClient
import Hardening
import HardeningAgent
import HardeningLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `hardening health-check`: probes once and prints the guide's report or health+json; fit for cron.
struct HealthCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health-check",
        abstract: "Probe the given dependencies once and report (the guide's report, or application/health+json).",
        discussion: """
            With no check named, runs the guide's checks from the environment and .env (--env-file): \
            Notion, Pinecone (with total_vectors) and OpenAI connectivity and latency, Zotero when \
            ZOTERO_API_KEY is set, and configuration health (the RAG preset's rules). Base URLs: \
            NOTION_BASE_URL, PINECONE_BASE_URL (the index's host; or PINECONE_INDEX_HOST), \
            OPENAI_BASE_URL (as the OpenAI SDKs, ending in /v1) and ZOTERO_BASE_URL, for a proxy or a \
            test server.

            Otherwise the named checks: the health.checks of an agent configuration file (--config: \
            http, tcp, disk, config), --http NAME=URL (answers 2xx), --tcp NAME=HOST:PORT (a port \
            accepts connections) and --disk NAME=PATH:MIN_MIB (free space); repeat them. Checks run \
            concurrently, each within --timeout. A failing check marked non-critical (--non-critical \
            NAME) degrades the verdict instead of failing it.

            Exit codes, as the guide's endpoint answers 200 only when healthy: 0 healthy, 1 unhealthy, \
            2 degraded, 64 usage error.
            """
    )

    @Option(help: "An agent configuration file (YAML) whose health.checks to run.")
    var config: String?

    @Option(help: "An HTTP check, NAME=URL: healthy when it answers 2xx in time (repeatable).")
    var http: [String] = []

    @Option(help: "A TCP check, NAME=HOST:PORT (repeatable).")
    var tcp: [String] = []

    @Option(help: "A free-space check, NAME=PATH:MIN_MIB (repeatable).")
    var disk: [String] = []

    @Option(name: .customLong("non-critical"), help: "A check whose failure only degrades the verdict (repeatable).")
    var nonCritical: [String] = []

    // Unconditional: `--timeout -1` is a value to refuse with a reason, not a missing value.
    @Option(parsing: .unconditional, help: "Seconds each probe may take.")
    var timeout: Double = 5

    @Option(help: "text (the guide's report) or json (application/health+json).")
    var format: ConfigFormat = .text

    @Option(name: .customLong("env-file"), help: "The .env file read with the environment when no check is named.")
    var envFile: String = ".env"

    /// Whether no check was named: the guide's checks run.
    var runsGuideChecks: Bool { tcp.isEmpty && disk.isEmpty && http.isEmpty && config == nil }

    func checks(client: HTTPClient? = nil) throws -> [any HealthCheck] {
        var checks: [any HealthCheck] = []
        for spec in http {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[1].hasPrefix("http://") || parts[1].hasPrefix("https://") else {
                throw ValidationError("--http \(spec): expected NAME=URL (http:// or https://)")
            }
            guard let client else { continue }
            checks.append(HTTPHealthCheck(name: String(parts[0]), url: String(parts[1]), timeout: .milliseconds(Int64(timeout * 1000)),
                                          isCritical: !nonCritical.contains(String(parts[0])), client: client))
        }
        for spec in tcp {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let colon = parts[1].lastIndex(of: ":"), let port = UInt16(parts[1][parts[1].index(after: colon)...]) else {
                throw ValidationError("--tcp \(spec): expected NAME=HOST:PORT")
            }
            checks.append(TCPHealthCheck(name: String(parts[0]), host: String(parts[1][..<colon]), port: port,
                                         timeout: .milliseconds(Int64(timeout * 1000)), isCritical: !nonCritical.contains(String(parts[0]))))
        }
        for spec in disk {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let colon = parts[1].lastIndex(of: ":"), let mib = UInt64(parts[1][parts[1].index(after: colon)...]) else {
                throw ValidationError("--disk \(spec): expected NAME=PATH:MIN_MIB")
            }
            checks.append(DiskSpaceHealthCheck(name: String(parts[0]), path: String(parts[1][..<colon]), minimumFreeBytes: mib << 20,
                                               isCritical: !nonCritical.contains(String(parts[0]))))
        }
        return checks
    }

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds, not \(timeout).") }
        _ = try checks()
        // The names as given (an HTTP check is made only with a client, in run()).
        let names = (http + tcp + disk).map { String($0.prefix { $0 != "=" }) }
        var seen: Set<String> = []
        for name in names where !seen.insert(name).inserted {
            throw ValidationError("two checks are named '\(name)': each --http, --tcp and --disk check needs a name of its own.")
        }
        // Without --config, --non-critical names a check of the command line (those of the file
        // are known once it is read, in run()).
        if config == nil {
            for name in nonCritical where !names.contains(name) {
                throw ValidationError("--non-critical \(name): no --http, --tcp or --disk check is named '\(name)'"
                                      + (names.isEmpty ? "." : "; the checks are \(names.joined(separator: ", ")).") )
            }
        }
    }

    func run() async throws {
        let client = HTTPHealthCheck.probingClient()
        var checks = try self.checks(client: client)
        if runsGuideChecks {
            let environment = ProcessEnvironment.current
            let text: String?
            do {
                text = try PosixFileSystem().readText(envFile)
            } catch {
                // Only a --env-file named on the command line must exist.
                text = nil
                if error.code != ENOENT || envFile != ".env" {
                    try? await client.shutdown()
                    FileHandleStandardError.write("hardening health-check: cannot read \(envFile): \(error)\n")
                    throw ExitCode(1)
                }
            }
            let sources = ConfigSources(environment: environment, dotEnv: text, dotEnvName: envFile)
            checks = GuideHealthChecks.checks(sources, client: client, timeout: .milliseconds(Int64(timeout * 1000)))
        }
        if let config {
            do {
                var configuration = try AgentConfiguration.load(path: config, environment: ProcessEnvironment.current)
                configuration.validation.connectivity = configuration.health.checks.map(\.name)
                let known = configuration.health.checks.map(\.name) + (http + tcp + disk).map { String($0.prefix { $0 != "=" }) }
                if let unknown = nonCritical.first(where: { !known.contains($0) }) {
                    try? await client.shutdown()
                    FileHandleStandardError.write("hardening health-check: --non-critical \(unknown): no check of \(config) or of the command line "
                                                  + "is named '\(unknown)'; the checks are \(known.joined(separator: ", "))\n")
                    throw ExitCode(64)
                }
                configuration.health.timeout = .milliseconds(Int64(timeout * 1000))
                checks = Agent.connectivityChecks(configuration, client: client) + checks
            } catch let error as AgentConfigurationError {
                try? await client.shutdown()
                FileHandleStandardError.write("hardening health-check: \(error)\n")
                throw ExitCode(1)
            }
        }
        let prober = HealthProber(checks: checks, timeout: .milliseconds(Int64(timeout * 1000)))
        let probes = await prober.probeAll()
        try? await client.shutdown()
        let report = HealthReport(probes: probes.map { ($0.name, $0.isCritical, $0.result) }, time: SystemWallClock().now())
        let out = OutputStream()
        switch format {
        case .text: out.write(TerminalText.safe(report.text))
        case .json: out.write(report.json.jsonText + "\n")
        }
        out.close()
        switch report.overall {
        case .healthy: return
        case .unhealthy: throw ExitCode(1)
        case .degraded: throw ExitCode(2)
        }
    }
}
