// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningLog
import HardeningOTel
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension AgentConfiguration {
    /// Reads and checks the configuration file at `path`: every problem is reported at once with
    /// file, line and key; `${VAR}` references are resolved from `environment`, then from the
    /// `.env` file the configuration names (relative to the configuration file).
    public static func load(path: String, environment: [String: String], fileSystem: some FileSystem = PosixFileSystem()) throws
        -> AgentConfiguration
    {
        let text: String
        do {
            text = try fileSystem.readText(path)
        } catch {
            throw AgentConfigurationError(problems: [ConfigFileProblem(file: path, line: 0, key: "", message: "cannot read: \(error)")])
        }
        return try parse(yaml: text, file: path, environment: environment) { envPath in
            Result { () throws(FileSystemError) in try fileSystem.readText(envPath) }
        }
    }

    /// The largest configuration file read (1 MiB).
    static let maxFileBytes = 1 << 20

    /// Parses configuration text (see ``load(path:environment:fileSystem:)``); `readFile` reads
    /// the `.env` file.
    public static func parse(yaml: String, file: String, environment: [String: String],
                             readFile: (String) -> Result<String, FileSystemError> = { _ in .failure(FileSystemError(code: 2, operation: "open", path: "")) })
        throws(AgentConfigurationError) -> AgentConfiguration
    {
        // A configuration is a page or two: one of megabytes (hundreds of thousands of keys)
        // would cost hundreds of megabytes to parse, for nothing.
        guard yaml.utf8.count <= maxFileBytes else {
            throw AgentConfigurationError(problems: [ConfigFileProblem(
                file: file, line: 0, key: "",
                message: "is \(yaml.utf8.count) bytes; a configuration file is at most \(maxFileBytes >> 20) MiB")])
        }
        let problems = ProblemCollector(file: file)
        // A byte order mark (what some Windows editors save UTF-8 with) is not content.
        let yaml = yaml.hasPrefix("\u{FEFF}") ? String(yaml.dropFirst()) : yaml
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            if case .duplicatedKeysInMapping = error {
                // Yams stops at the first mapping with a duplicate: find every one.
                let duplicates = DuplicateKeyScanner.duplicates(in: yaml)
                if !duplicates.isEmpty {
                    let found = ProblemCollector(file: file)
                    for duplicate in duplicates {
                        found.add(duplicate.line, duplicate.key, "key given more than once (first on line \(duplicate.firstLine))")
                    }
                    throw found.error
                }
            }
            throw AgentConfigurationError(problems: [yamlProblem(error, file: file)])
        } catch {
            throw AgentConfigurationError(problems: [ConfigFileProblem(file: file, line: 0, key: "", message: "not YAML: \(error)")])
        }
        var configuration = AgentConfiguration()
        configuration.file = file
        let top = YAMLFields(root, path: "", line: 1, problems: problems)
        if let service = top.string("service") { configuration.service = service }
        if let timeout = top.duration("shutdown_timeout", minimum: .milliseconds(100)) { configuration.shutdownTimeout = timeout }
        if let drain = top.duration("shutdown_drain") { configuration.shutdownDrain = drain }
        if configuration.shutdownDrain >= configuration.shutdownTimeout {
            problems.add(top.lineOf("shutdown_drain"), "shutdown_drain", "must be shorter than shutdown_timeout (\(Int64(configuration.shutdownTimeout.milliseconds)) ms)")
        }
        readServer(top.fields("server"), into: &configuration.server)
        readOTLP(top.fields("otlp"), into: &configuration.otlp)
        // The standard variables alone turn export on, and OTEL_SDK_DISABLED=true turns it off.
        if configuration.otlp == nil, let endpoint = OTLPEnvironment.endpoint(in: environment) {
            if endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") {
                configuration.otlp = OTLP(endpoint: endpoint)
            } else {
                problems.add(0, "OTEL_EXPORTER_OTLP_ENDPOINT", "expected the collector's OTLP/HTTP address, such as http://127.0.0.1:4318, got '\(endpoint)'")
            }
        }
        if OTLPEnvironment.disablesExport(environment) { configuration.otlp = nil }
        readEvents(top.fields("events"), into: &configuration.events, file: file)
        // The sources come first: `${VAR}` in checks and the webhook resolve against them.
        let validationFields = top.fields("config")
        readValidation(validationFields, into: &configuration.validation)
        var envText: String?
        if let envFile = configuration.validation.envFile {
            let envPath = Self.resolve(envFile, relativeTo: file)
            switch readFile(envPath) {
            case .success(let text): envText = text
            case .failure(let error) where error.code == ENOENT:
                envText = nil  // like dotenv: a missing file is no file; rules report the keys it should have set
            case .failure(let error): problems.add(validationFields?.lineOf("env_file") ?? 0, "config.env_file", "cannot read \(envPath): \(error)")
            }
            configuration.validation.envFile = envPath
        }
        configuration.sources = ConfigSources(environment: environment, dotEnv: envText, dotEnvName: configuration.validation.envFile ?? ".env")
        configuration.sources.fileName = file
        for pair in validationFields?.pairs("values") ?? [] {
            // `${VAR}` is expanded in headers and URLs, where its value is a secret; a value here
            // is a plain setting, printed in reports: a reference is refused, not shown as text.
            if pair.value.contains("${") {
                problems.add(pair.line, "config.values.\(pair.name)",
                             "${…} is not expanded in config.values (they are plain settings, shown in reports); set \(pair.name) in the environment or in the .env file")
                continue
            }
            configuration.sources.fileValues[pair.name] = (pair.value, pair.line)
            if configuration.validation.allRules.contains(where: { $0.key == pair.name && $0.isSecret }) {
                problems.add(pair.line, "config.values.\(pair.name)", "a secret does not belong in the configuration file; set it in the environment or in the .env file")
            }
        }
        var secrets = SecretResolver(sources: configuration.sources, problems: problems)
        var declaredChecks: [String] = []
        readHealth(top.fields("health"), into: &configuration.health, secrets: &secrets, names: &declaredChecks)
        readAlerts(top.fields("alerts"), into: &configuration.alerts, secrets: &secrets)
        readObjectives(top, into: &configuration, problems: problems)
        top.rejectUnknownKeys()
        // Named checks, those with problems too: a problem in a check is reported once, there.
        var names: [String] = []
        for name in declaredChecks where !names.contains(name) { names.append(name) }
        for name in configuration.validation.connectivity where !names.contains(name) {
            problems.add(validationFields?.lineOf("connectivity") ?? 0, "config.connectivity",
                         "'\(name)' is not a health check; expected one of \(names.joined(separator: ", "))")
        }
        for check in configuration.health.checks {
            if case .breaker(let breaker) = check.kind, breaker != "webhook" || configuration.alerts.webhook == nil {
                problems.add(0, check.keyPath, "the agent has no breaker '\(breaker)' (its breaker is 'webhook', with alerts.webhook set)")
            }
        }
        configuration.secrets = secrets.values
        guard problems.isEmpty else { throw problems.error }
        return configuration
    }

    /// Every key a check may have, whatever its type.
    static let checkKeys = ["name", "type", "critical", "slow_threshold", "timeout", "url", "method", "headers", "expect_status", "observe",
                            "host", "port", "path", "min_free_mib", "breaker"]

    /// Header values with control characters are refused (an HTTP client would refuse them later
    /// and print them in its error); the problem never shows the value.
    static func controlCharacterProblem(_ value: String) -> String? {
        guard value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else { return nil }
        return "the value contains control characters (CR, LF, NUL or another); header values must be one line of text"
    }

    static func resolve(_ path: String, relativeTo file: String) -> String {
        guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }

    private static func yamlProblem(_ error: YamlError, file: String) -> ConfigFileProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let around = context.map { " (\($0.text))" } ?? ""
            return ConfigFileProblem(file: file, line: mark.line, key: "", message: "not valid YAML: \(problem)\(around) at column \(mark.column)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigFileProblem(file: file, line: context.mark.line, key: duplicates.joined(separator: ", "),
                                     message: "key given more than once")
        default:
            return ConfigFileProblem(file: file, line: 0, key: "", message: "not valid YAML: \(error)")
        }
    }

    private static func readServer(_ fields: YAMLFields?, into server: inout Server) {
        guard let fields else { return }
        if let host = fields.string("host") {
            if HostSyntax.isValid(host) {
                server.host = host
            } else {
                fields.problems.add(fields.entry("host")?.line ?? fields.line, fields.keyPath("host"),
                                    "expected an IP address or a host name (such as 127.0.0.1, ::1, 0.0.0.0 or localhost), got '\(host)'")
            }
        }
        if let port = fields.int("port", in: 0...65535) { server.port = port }
        if let show = fields.bool("show_details") { server.showDetails = show }
        if let status = fields.int("degraded_status", in: 100...599) {
            if status == 200 || status == 503 {
                server.degradedStatus = status
            } else {
                fields.problems.add(fields.entry("degraded_status")?.line ?? fields.line, fields.keyPath("degraded_status"),
                                    "expected 200 or 503, got \(status)")
            }
        }
        if let idle = fields.duration("idle_timeout", minimum: .milliseconds(100)) { server.idleTimeout = idle }
        if let header = fields.duration("header_timeout", minimum: .milliseconds(100)) { server.headerTimeout = header }
        if let request = fields.duration("request_timeout", minimum: .milliseconds(100)) { server.requestTimeout = request }
        if let limit = fields.int("max_connections", in: 1...1_000_000) { server.maxConnections = limit }
        if let refresh = fields.duration("summary_refresh", minimum: .milliseconds(10)) { server.summaryRefresh = refresh }
        if let dashboard = fields.bool("dashboard") { server.dashboard = dashboard }
        if let clients = fields.int("stream_clients", in: 1...10_000) { server.streamClients = clients }
        if let kib = fields.int("stream_client_queue_kib", in: 16...(1 << 20)) { server.streamClientQueueBytes = kib << 10 }
        fields.rejectUnknownKeys()
    }

    private static func readOTLP(_ fields: YAMLFields?, into otlp: inout OTLP?) {
        guard let fields else { return }
        if let endpoint = fields.string("endpoint") {
            if (endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) && endpoint.count > 8 {
                otlp = OTLP(endpoint: endpoint)
            } else {
                fields.problems.add(fields.entry("endpoint")?.line ?? fields.line, fields.keyPath("endpoint"),
                                    "expected the collector's OTLP/HTTP address, such as http://127.0.0.1:4318, got '\(endpoint)'")
            }
        } else {
            fields.problems.add(fields.line, fields.keyPath("endpoint"), "required: the collector's OTLP/HTTP address, such as http://127.0.0.1:4318")
        }
        if let timeout = fields.duration("export_timeout", minimum: .milliseconds(100)) { otlp?.exportTimeout = timeout }
        fields.rejectUnknownKeys()
    }

    private static func readEvents(_ fields: YAMLFields?, into events: inout Events, file: String) {
        guard let fields else { return }
        if let stdout = fields.oneOf("stdout", ["json", "human", "auto", "off"]) { events.stdout = stdout }
        if let cap = fields.int("stdout_max_line_bytes", in: 512...(64 << 20)) { events.stdoutMaxLineBytes = cap }
        let levels = EventLevel.allCases.map(\.name)
        if let level = fields.oneOf("stdout_level", levels) { events.stdoutLevel = EventLevel(name: level) ?? .trace }
        if let detail = fields.oneOf("detail", EventVolume.Detail.allCases.map(\.rawValue)) {
            events.volume.detail = EventVolume.Detail(rawValue: detail) ?? .production
        }
        if let window = fields.duration("window", minimum: .milliseconds(10)) { events.volume.windowInterval = window }
        for pair in fields.pairs("kinds") {
            guard EventKind.isWellFormed(pair.name) else {
                fields.problems.add(pair.line, fields.keyPath("kinds.\(pair.name)"), "not an event kind (lowercase dotted words such as retry.succeeded)")
                continue
            }
            guard let level = EventVolume.KindLevel(name: pair.value) else {
                fields.problems.add(pair.line, fields.keyPath("kinds.\(pair.name)"), "expected one of \((levels + ["off"]).joined(separator: ", ")), got '\(pair.value)'")
                continue
            }
            events.volume.kindLevels[EventKind(pair.name)] = level
        }
        let directory = fields.string("directory")
        var files = RotatingFileSink.Configuration(directory: directory.map { resolve($0, relativeTo: file) } ?? "")
        if let layout = fields.oneOf("file_layout", RotatingFileSink.Layout.allCases.map(\.rawValue)) {
            files.layout = RotatingFileSink.Layout(rawValue: layout) ?? .segments
        }
        if let format = fields.oneOf("file_format", ["plain", "gzip-stream"]) {
            files.format = format == "gzip-stream" ? .gzipStream : .plain
            files.flushInterval = files.format == .gzipStream ? .seconds(1) : .zero
        }
        if let bytes = fields.int("max_file_bytes", in: 1024...Int.max) { files.maxFileBytes = Int64(bytes) }
        if let age = fields.duration("max_file_age", minimum: .seconds(1)) { files.maxFileAge = age }
        if let interval = fields.duration("min_rotation_interval") { files.minRotationInterval = interval }
        let level = fields.int("compression_level", in: 0...9)
        let delay = fields.duration("compression_delay")
        if fields.bool("compression") == false {
            files.compression = nil
        } else {
            files.compression = RotatingFileSink.Compression(level: level ?? 6, delay: delay ?? .seconds(60))
        }
        if let level { files.streamCompressionLevel = level }
        if let count = fields.int("max_files", in: 0...100_000) { files.retention.maxFiles = count }
        if let bytes = fields.int("max_total_bytes", in: 0...Int.max) { files.retention.maxTotalBytes = Int64(bytes) }
        if let age = fields.duration("retention_max_age", minimum: .seconds(1)) { files.retention.maxAge = age }
        if let interval = fields.duration("flush_interval") { files.flushInterval = interval }
        if let fsync = fields.oneOf("fsync", ["never", "on-rotation", "every-flush"]) {
            files.fsync = RotatingFileSink.FsyncPolicy(rawValue: fsync.replacing("-", with: "_")) ?? .onRotation
        }
        if let bytes = fields.int("max_line_bytes", in: 1024...(16 << 20)) { files.maxLineBytes = bytes }
        if let level = fields.oneOf("file_level", levels) { files.minimumLevel = EventLevel(name: level) ?? .trace }
        if directory != nil {
            events.files = files
        } else {
            for key in ["file_layout", "file_format", "max_file_bytes", "max_file_age", "min_rotation_interval", "compression",
                        "compression_level", "compression_delay", "max_files", "max_total_bytes", "retention_max_age",
                        "flush_interval", "fsync", "max_line_bytes", "file_level"] where fields.has(key) {
                fields.problems.add(fields.lineOf(key), fields.keyPath(key), "has no effect without events.directory")
            }
        }
        fields.rejectUnknownKeys()
    }

    private static func readValidation(_ fields: YAMLFields?, into validation: inout Validation) {
        guard let fields else { return }
        validation.envFile = fields.string("env_file")
        validation.preset = fields.oneOf("preset", ["rag"])
        validation.connectivity = fields.strings("connectivity") ?? []
        _ = fields.entry("values")  // read once the sources exist (see parse)
        for rule in fields.list("rules") {
            guard let key = rule.string("key") else {
                rule.problems.add(rule.line, rule.path, "a rule needs a key (the environment variable)")
                rule.rejectUnknownKeys()
                continue
            }
            let help = rule.string("help") ?? "See the agent configuration's config.rules."
            let format: ConfigRule.Format?
            switch rule.oneOf("format", ["text", "secret", "url", "identifier", "integer", "number", "one_of"]) ?? "text" {
            case "secret": format = .secret(prefix: rule.strings("prefix") ?? [])
            case "url": format = .url
            case "identifier": format = .identifier
            case "integer":
                let min = rule.int("min").map(Int64.init) ?? .min, max = rule.int("max").map(Int64.init) ?? .max
                format = min <= max ? .integer(min...max) : nil
                if format == nil { rule.problems.add(rule.lineOf("min"), rule.keyPath("min"), "min is larger than max") }
            case "number":
                let min = rule.double("min", in: -.greatestFiniteMagnitude...(.greatestFiniteMagnitude)) ?? -.greatestFiniteMagnitude
                let max = rule.double("max", in: -.greatestFiniteMagnitude...(.greatestFiniteMagnitude)) ?? .greatestFiniteMagnitude
                format = min <= max ? .number(min...max) : nil
                if format == nil { rule.problems.add(rule.lineOf("min"), rule.keyPath("min"), "min is larger than max") }
            case "one_of":
                let choices = rule.strings("choices") ?? []
                format = choices.isEmpty ? nil : .oneOf(choices)
                if choices.isEmpty { rule.problems.add(rule.line, rule.keyPath("choices"), "format one_of needs a list of choices") }
            default: format = .text
            }
            let defaultValue = rule.string("default")
            if let defaultValue, case .secret = format {
                _ = defaultValue
                rule.problems.add(rule.lineOf("default"), rule.keyPath("default"), "a secret cannot have a default in the file; set it in the environment")
            } else if let defaultValue, defaultValue.contains("${") {
                rule.problems.add(rule.lineOf("default"), rule.keyPath("default"),
                                  "${…} is not expanded in a default (shown in reports); set \(key) in the environment or in the .env file")
            }
            rule.rejectUnknownKeys()
            if let format { validation.rules.append(ConfigRule(key, format, default: defaultValue, help: help)) }
        }
        fields.rejectUnknownKeys()
    }
}

/// Expands `${VAR}` from the configuration sources, remembering every value as a secret.
struct SecretResolver {
    let sources: ConfigSources
    let problems: ProblemCollector
    private(set) var values: [String] = []

    init(sources: ConfigSources, problems: ProblemCollector) {
        self.sources = sources
        self.problems = problems
    }

    mutating func expand(_ text: String, line: Int, key: String) -> String? {
        var output = ""
        var rest = Substring(text)
        var ok = true
        while let start = rest.firstRange(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                problems.add(line, key, "'${' without a closing '}'")
                return nil
            }
            let name = String(rest[start.upperBound..<end])
            if let found = sources.value(of: name), !found.value.isEmpty {
                output += found.value
                values.append(found.value)
            } else {
                problems.add(line, key, "${\(name)} is not set: set \(name) in the environment or in \(sources.dotEnvName)")
                ok = false
            }
            rest = rest[rest.index(after: end)...]
        }
        output += rest
        return ok ? output : nil
    }
}
#endif
