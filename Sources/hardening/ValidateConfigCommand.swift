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

/// `hardening validate-config`: checks the service's configuration and reports every problem at
/// once; secrets are never printed.
struct ValidateConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-config",
        abstract: "Check the service's configuration (environment, then the .env file, then defaults) and report every problem.",
        discussion: """
            Rules: the preset (--preset rag: the original RAG service's OpenAI, Pinecone, Notion, Zotero \
            keys and pipeline values), or the rules of an agent configuration file (--config: config.preset, \
            config.rules), whose config.connectivity names health checks to run as connectivity checks. \
            Without --config, connectivity is the guide's: Notion, Pinecone, OpenAI (and Zotero when its \
            key is set) as health-check probes them, base URLs from NOTION_BASE_URL, PINECONE_BASE_URL, \
            OPENAI_BASE_URL, ZOTERO_BASE_URL. --offline skips connectivity, and the report says so.

            Precedence: the process environment, then the .env file (--env-file, else the configuration's \
            config.env_file, else ./.env if it exists), then the rule's default. Each problem names the \
            variable as you wrote it, where its value came from (environment, .env:LINE, default, missing, \
            network), what was expected and what to do. A secret's value is never shown, not even a wrong \
            one: only that it is set, its length and its expected prefix.

            Exit codes: 0 every check passed; 1 at least one problem; 64 usage error.
            """
    )

    @Option(name: .customLong("env-file"), help: "The .env file to read (default: the configuration's config.env_file, else ./.env if it exists).")
    var envFile: String?

    @Option(help: "An agent configuration file (YAML) whose config section gives the rules and connectivity checks.")
    var config: String?

    @Flag(help: "Skip the connectivity checks (no network).")
    var offline = false

    @Option(help: "text (the guide's report) or json.")
    var format: ConfigFormat = .text

    @Option(help: "The rule preset: rag (the original RAG service). Default: rag without --config; with --config, the file's.")
    var preset: ConfigPreset?

    @Option(help: "Seconds each connectivity check may take.")
    var timeout: Double = 10

    func run() async throws {
        let environment = ProcessEnvironment.current
        var rules: [ConfigRule]
        var envPath = envFile
        var agentConfiguration: AgentConfiguration?
        if let config {
            do {
                let loaded = try AgentConfiguration.load(path: config, environment: environment)
                agentConfiguration = loaded
                rules = loaded.validation.allRules
                if envPath == nil { envPath = loaded.validation.envFile }
            } catch let error as AgentConfigurationError {
                FileHandleStandardError.write("hardening validate-config: \(error)\n")
                throw ExitCode(1)
            }
            if let preset { rules = preset.rules.filter { rule in !rules.contains { $0.key == rule.key } } + rules }
        } else {
            rules = (preset ?? .rag).rules
        }
        let path = envPath ?? ".env"
        let text: String?
        do {
            text = try PosixFileSystem().readText(path)
        } catch {
            // Only a file named by --env-file must exist; the configuration's env_file, like the
            // agent reads it (and dotenv), is empty when missing: the rules report its keys.
            guard envFile == nil, error.code == ENOENT else {
                FileHandleStandardError.write("hardening validate-config: cannot read \(path): \(error)\n")
                throw ExitCode(1)
            }
            text = nil
        }
        var sources = ConfigSources(environment: environment, dotEnv: text, dotEnvName: path)
        // The file's own `config.values`, below the environment and the .env file, as the agent reads them.
        if let agentConfiguration {
            sources.fileValues = agentConfiguration.sources.fileValues
            sources.fileName = agentConfiguration.sources.fileName
        }
        let client = HTTPHealthCheck.probingClient()
        // The configuration file's connectivity checks, or the guide's services (as health-check runs them).
        let connectivity = agentConfiguration.map { Agent.connectivityChecks($0, client: client) }
            ?? GuideHealthChecks.checks(sources, client: client, timeout: .milliseconds(Int64(timeout * 1000))).filter { $0.name != "Configuration" }
        let validator = ConfigValidator(rules: rules, connectivity: connectivity)
        let report = await validator.validate(sources, offline: offline, timeout: .milliseconds(Int64(timeout * 1000)))
        try? await client.shutdown()
        let out = OutputStream()
        switch format {
        case .text: out.write(report.text)
        case .json: out.write(report.json.jsonText + "\n")
        }
        out.close()
        if !report.passed { throw ExitCode(1) }
    }
}

enum ConfigFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

enum ConfigPreset: String, ExpressibleByArgument, CaseIterable {
    case rag

    var rules: [ConfigRule] {
        switch self {
        case .rag: ConfigRule.ragService
        }
    }
}
