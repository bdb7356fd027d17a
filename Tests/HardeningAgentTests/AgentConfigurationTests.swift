import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import Testing

/// The agent's YAML configuration: the example file loads; a bad file reports every problem at
/// once with file, line and key; `${VAR}` secrets resolve and never appear in a problem.
@Suite struct AgentConfigurationTests {
    static let environment = [
        "PINECONE_API_KEY": "pcsk_1234567890abcdefghijkl", "PINECONE_INDEX_HOST": "idx.example.test",
        "OPENAI_API_KEY": "sk-abcdefghijklmnopqrstuvwxyz", "NOTION_API_KEY": "ntn_abcdefghijklmnopqrstuvwxyz",
        "ALERT_WEBHOOK_URL": "https://hooks.example.test/T000/B000/XXXX",
    ]

    @Test func degradedStatusIs503Or200() throws {
        #expect(try AgentConfiguration.parse(yaml: "server: {port: 0}\n", file: "a.yaml", environment: [:]).server.degradedStatus == 503)
        #expect(try AgentConfiguration.parse(yaml: "server: {degraded_status: 200}\n", file: "a.yaml", environment: [:]).server.degradedStatus == 200)
        let error = #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: "server: {degraded_status: 404}\n", file: "a.yaml", environment: [:])
        }
        #expect(error?.problems.first?.message == "expected 200 or 503, got 404", "\(String(describing: error))")
    }

    @Test func theStdoutLineCapIs16KiBUnlessSet() throws {
        #expect(try AgentConfiguration.parse(yaml: "events: {stdout: json}\n", file: "a.yaml", environment: [:]).events.stdoutMaxLineBytes == 16_384)
        let set = try AgentConfiguration.parse(yaml: "events: {stdout: json, stdout_max_line_bytes: 8192}\n", file: "a.yaml", environment: [:])
        #expect(set.events.stdoutMaxLineBytes == 8192)
        #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: "events: {stdout_max_line_bytes: 100}\n", file: "a.yaml", environment: [:])
        }
    }

    /// The volume: the detail, the window, each kind's level, and the levels of stdout and files.
    @Test func theEventsSectionSetsTheVolume() throws {
        let defaults = try AgentConfiguration.parse(yaml: "events: {stdout: json}\n", file: "a.yaml", environment: [:]).events
        #expect(defaults.volume == .production && defaults.stdoutLevel == .trace)
        let yaml = """
            events:
              detail: full
              window: 2s
              stdout_level: warning
              directory: /var/log/rag
              file_level: notice
              kinds: {retry.succeeded: notice, health.probed: off}
            """
        let events = try AgentConfiguration.parse(yaml: yaml, file: "a.yaml", environment: [:]).events
        #expect(events.volume.detail == .full && events.volume.windowInterval == .seconds(2))
        #expect(events.volume.kindLevels == [.retrySucceeded: .level(.notice), .healthProbed: .off])
        #expect(events.stdoutLevel == .warning && events.files?.minimumLevel == .notice)
        let problems = #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: "events:\n  detail: less\n  stdout_level: loud\n  kinds: {Retry!: info, retry.succeeded: never}\n  file_level: info\n",
                                         file: "a.yaml", environment: [:])
        }
        let messages = problems?.problems.map { "\($0.line):\($0.key): \($0.message)" } ?? []
        #expect(messages.contains("2:events.detail: expected one of production, full, got 'less'"), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("3:events.stdout_level: expected one of trace,") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("4:events.kinds.Retry!: not an event kind") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("4:events.kinds.retry.succeeded: expected one of") && $0.hasSuffix("got 'never'") }, "\(messages)")
        #expect(messages.contains("5:events.file_level: has no effect without events.directory"), "\(messages)")
    }

    @Test func aByteOrderMarkIsNoContentAndAHugeFileIsRefusedBeforeParsing() throws {
        #expect(try AgentConfiguration.parse(yaml: "\u{FEFF}service: bom\n", file: "a.yaml", environment: [:]).service == "bom")
        let huge = "service: big\n" + String(repeating: "unknown_key_of_many: value\n", count: 50_000)
        let error = #expect(throws: AgentConfigurationError.self) { try AgentConfiguration.parse(yaml: huge, file: "a.yaml", environment: [:]) }
        #expect(error?.problems.first?.message.hasSuffix("a configuration file is at most 1 MiB") == true, "\(String(describing: error))")
    }

    /// `config.values` and rule defaults are plain settings that reports print: a `${VAR}` there
    /// is refused (never expanded and shown), and `validate-config --config` reads the values as
    /// the agent does.
    @Test func referencesInValuesAndDefaultsAreRefused() throws {
        let yaml = """
            config:
              rules:
                - {key: CHUNK_SIZE, format: integer, default: "${CHUNK}"}
                - {key: MODE, format: one_of, choices: [a, b]}
              values:
                MODE: "${MODE_VALUE}"
            """
        let error = #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: yaml, file: "a.yaml", environment: ["CHUNK": "s3cr3t", "MODE_VALUE": "b"])
        }
        let messages = error?.problems.map { "\($0.line):\($0.key): \($0.message)" } ?? []
        #expect(messages.contains { $0.hasPrefix("3:config.rules[0].default: ${…} is not expanded in a default") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("6:config.values.MODE: ${…} is not expanded in config.values") }, "\(messages)")
        #expect(!"\(String(describing: error))".contains("s3cr3t"))
    }

    @Test func theExampleFileLoads() throws {
        let path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let configuration = try AgentConfiguration.load(path: "/\(path)/examples/hardening.yaml", environment: Self.environment)
        #expect(configuration.service == "rag-service")
        #expect(configuration.server.host == "127.0.0.1" && configuration.server.port == 9464 && configuration.server.showDetails)
        #expect(configuration.server.degradedStatus == 503)
        #expect(configuration.health.checks.map(\.name) == ["pinecone", "openai", "notion", "disk", "events", "config"])
        #expect(configuration.health.interval == .seconds(15) && configuration.health.slowProbe == .seconds(2))
        #expect(configuration.alerts.rules.count == 2 && configuration.alerts.webhook?.attempts == 4)
        #expect(configuration.validation.connectivity == ["pinecone", "openai", "notion"])
        #expect(configuration.validation.allRules.contains { $0.key == "OPENAI_API_KEY" })
        guard case .http(let url, let method, let headers, _, let observe) = configuration.health.checks[0].kind else {
            Issue.record("pinecone is not an http check")
            return
        }
        #expect(url == "https://idx.example.test/describe_index_stats" && method == "POST")
        #expect(headers.first?.value == "pcsk_1234567890abcdefghijkl" && observe?.path == "totalVectorCount")
        #expect(!configuration.health.checks[2].isCritical)
        #expect(Set(configuration.secrets).isSuperset(of: ["pcsk_1234567890abcdefghijkl", "sk-abcdefghijklmnopqrstuvwxyz"]))
        // The .env file of the example does not exist: said with the key that names it.
        #expect(configuration.validation.envFile?.hasSuffix("examples/.env") == true)
    }

    /// Every setting of the file sink, under `generate`'s flag names in snake case; the directory
    /// (like every path) is resolved against the configuration file's folder.
    @Test func theEventsSectionSetsEveryFileSinkSetting() throws {
        let yaml = """
            events:
              directory: logs
              file_layout: rename
              file_format: gzip-stream
              max_file_bytes: 2000000
              max_file_age: 1h
              min_rotation_interval: 250ms
              compression_level: 9
              compression_delay: 2m
              max_files: 7
              max_total_bytes: 100000000
              retention_max_age: 7d
              flush_interval: 2s
              fsync: every-flush
              max_line_bytes: 16384
            health:
              checks:
                - {name: disk, type: disk, path: data}
            """
        let problems = #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: yaml, file: "/etc/hardening/agent.yaml", environment: [:])
        }
        #expect(problems?.problems.map(\.key) == ["events.retention_max_age"], "7d is not a duration: \(String(describing: problems))")
        let configuration = try AgentConfiguration.parse(yaml: yaml.replacing("7d", with: "168h"),
                                                         file: "/etc/hardening/agent.yaml", environment: [:])
        let files = try #require(configuration.events.files)
        #expect(files.directory == "/etc/hardening/logs")
        #expect(files.layout == .rename && files.format == .gzipStream)
        #expect(files.maxFileBytes == 2_000_000 && files.maxFileAge == .seconds(3600) && files.minRotationInterval == .milliseconds(250))
        #expect(files.compression == .init(level: 9, delay: .seconds(120)) && files.streamCompressionLevel == 9)
        #expect(files.retention == .init(maxFiles: 7, maxTotalBytes: 100_000_000, maxAge: .seconds(168 * 3600)))
        #expect(files.flushInterval == .seconds(2) && files.fsync == .everyFlush && files.maxLineBytes == 16384)
        guard case .disk(let path, _) = configuration.health.checks.first?.kind else {
            Issue.record("no disk check")
            return
        }
        #expect(path == "/etc/hardening/data")
        // The defaults are the sink's: the segments layout, plain files.
        let defaults = try AgentConfiguration.parse(yaml: "events: {directory: /var/log/rag}", file: "a.yaml", environment: [:])
        #expect(defaults.events.files == RotatingFileSink.Configuration(directory: "/var/log/rag"))
        let useless = #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: "events: {max_files: 3}", file: "a.yaml", environment: [:])
        }
        #expect(useless?.problems.first?.message.contains("without events.directory") == true)
    }

    @Test func everyProblemIsReportedWithFileLineAndKey() {
        let yaml = """
            service: svc
            sever:
              port: 80
            server:
              port: 99999
              show_details: maybe
            health:
              interval: soon
              checks:
                - name: api
                  type: http
                  url: https://api.example.test/health
                  headers:
                    Authorization: Bearer ${MISSING_TOKEN}
                - name: db
                  type: tcp
                - name: api
                  type: carrier-pigeon
                  timout: 5s
                - name: logs
                  type: disk
                  path: /var/log
                  port: 22
            alerts:
              rules:
                - name: both
                  consecutive_failures: 3
                  failure_ratio: 0.5
            config:
              connectivity: [nowhere]
            """
        do {
            _ = try AgentConfiguration.parse(yaml: yaml, file: "agent.yaml", environment: [:])
            Issue.record("a bad file loaded")
        } catch {
            let lines = error.problems.map(\.description)
            let expected = [
                "agent.yaml:2: sever: unknown key; did you mean 'server'?",
                "agent.yaml:5: server.port: expected a whole number in 0...65535, got 99999",
                "agent.yaml:6: server.show_details: expected true or false, got 'maybe'",
                "agent.yaml:8: health.interval: expected a duration such as 250ms, 5s, 2m or 1h, got 'soon'",
                "agent.yaml:14: health.checks[0].headers.Authorization: ${MISSING_TOKEN} is not set: set MISSING_TOKEN in the environment or in .env",
                "agent.yaml:15: health.checks[1].port: a tcp check needs a port",
                "agent.yaml:17: health.checks[2].name: two checks are named 'api'",
                "agent.yaml:18: health.checks[2].type: expected one of http, tcp, disk, sinks, config, breaker, got 'carrier-pigeon'",
                "agent.yaml:19: health.checks[2].timout: unknown key; did you mean 'timeout'?",
                "agent.yaml:26: alerts.rules[0]: give consecutive_failures or failure_ratio, not both",
                "agent.yaml:23: health.checks[3].port: not used by a disk check",
                "agent.yaml:30: config.connectivity: 'nowhere' is not a health check; expected one of api, db, logs",
            ]
            for line in expected { #expect(lines.contains(line), "missing: \(line)\nall:\n\(lines.joined(separator: "\n"))") }
        }
    }

    @Test func serverSettingsAreReadAndTheHostIsChecked() throws {
        let yaml = """
            server: {host: "::1", port: 0, idle_timeout: 5s, header_timeout: 2s, request_timeout: 7s, max_connections: 64, summary_refresh: 250ms}
            """
        let server = try AgentConfiguration.parse(yaml: yaml, file: "agent.yaml", environment: [:]).server
        #expect(server.host == "::1" && server.idleTimeout == .seconds(5) && server.headerTimeout == .seconds(2))
        #expect(server.requestTimeout == .seconds(7) && server.maxConnections == 64 && server.summaryRefresh == .milliseconds(250))
        for host in ["127.0.0.1", "0.0.0.0", "localhost", "agent-1.internal.example", "::"] {
            #expect((try? AgentConfiguration.parse(yaml: "server: {host: '\(host)'}", file: "a.yaml", environment: [:])) != nil, "\(host)")
        }
        for host in ["127.0.0.256", "http://localhost", "local host", "-bad.example", "a..b", "300.1.1.1", "::g"] {
            do {
                _ = try AgentConfiguration.parse(yaml: "server:\n  host: '\(host)'\n  max_connections: 0", file: "a.yaml", environment: [:])
                Issue.record("server.host '\(host)' was accepted")
            } catch {
                let lines = error.problems.map(\.description)
                #expect(lines.contains { $0.hasPrefix("a.yaml:2: server.host: expected an IP address or a host name") }, "\(lines)")
                #expect(lines.contains("a.yaml:3: server.max_connections: expected a whole number in 1...1000000, got 0"), "\(lines)")
            }
        }
    }

    @Test func theDashboardAndItsStreamLimitsAreReadAndChecked() throws {
        let defaults = try AgentConfiguration.parse(yaml: "service: s", file: "a.yaml", environment: [:]).server
        #expect(defaults.dashboard && defaults.streamClients == 64 && defaults.streamClientQueueBytes == 1 << 20)
        let server = try AgentConfiguration.parse(yaml: "server: {dashboard: false, stream_clients: 3, stream_client_queue_kib: 64}", file: "a.yaml",
                                                  environment: [:]).server
        #expect(!server.dashboard && server.streamClients == 3 && server.streamClientQueueBytes == 64 << 10)
        do {
            _ = try AgentConfiguration.parse(yaml: "server:\n  dashboard: maybe\n  stream_clients: 0\n  stream_client_queue_kib: 8", file: "a.yaml",
                                             environment: [:])
            Issue.record("bad dashboard settings were accepted")
        } catch {
            let lines = error.problems.map(\.description)
            #expect(lines.contains { $0.hasPrefix("a.yaml:2: server.dashboard:") }, "\(lines)")
            #expect(lines.contains("a.yaml:3: server.stream_clients: expected a whole number in 1...10000, got 0"), "\(lines)")
            #expect(lines.contains("a.yaml:4: server.stream_client_queue_kib: expected a whole number in 16...1048576, got 8"), "\(lines)")
        }
    }

    @Test func otlpNeedsAnHTTPEndpointAndTakesAnExportTimeout() throws {
        #expect(try AgentConfiguration.parse(yaml: "service: s", file: "a.yaml", environment: [:]).otlp == nil)
        let otlp = try AgentConfiguration.parse(yaml: "otlp: {endpoint: \"http://127.0.0.1:4318\", export_timeout: 2s}", file: "a.yaml",
                                                environment: [:]).otlp
        #expect(otlp?.endpoint == "http://127.0.0.1:4318" && otlp?.exportTimeout == .seconds(2))
        #expect(try AgentConfiguration.parse(yaml: "otlp: {endpoint: \"https://otlp.example.com\"}", file: "a.yaml", environment: [:])
            .otlp?.exportTimeout == .seconds(5))
        // The standard variables alone turn it on; OTEL_SDK_DISABLED=true turns it off, the file's too.
        let fromEnvironment = try AgentConfiguration.parse(yaml: "service: s", file: "a.yaml",
                                                           environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).otlp
        #expect(fromEnvironment?.endpoint == "http://collector:4318")
        #expect(try AgentConfiguration.parse(yaml: "otlp: {endpoint: \"http://c:4318\"}", file: "a.yaml",
                                             environment: ["OTEL_SDK_DISABLED": "true"]).otlp == nil)
        #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration.parse(yaml: "service: s", file: "a.yaml", environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"])
        }
        for (yaml, expected) in [
            ("otlp:\n  endpoint: 127.0.0.1:4318", "a.yaml:2: otlp.endpoint: expected the collector's OTLP/HTTP address, such as http://127.0.0.1:4318, got '127.0.0.1:4318'"),
            ("otlp:\n  export_timeout: 1s", "a.yaml:2: otlp.endpoint: required: the collector's OTLP/HTTP address, such as http://127.0.0.1:4318"),
            ("otlp:\n  endpoint: http://c:4318\n  protocol: grpc", "a.yaml:3: otlp.protocol:"),
        ] {
            do {
                _ = try AgentConfiguration.parse(yaml: yaml, file: "a.yaml", environment: [:])
                Issue.record("accepted: \(yaml)")
            } catch {
                let lines = error.problems.map(\.description)
                #expect(lines.contains { $0.hasPrefix(expected) }, "\(lines)")
            }
        }
    }

    @Test func invalidYAMLSaysWhere() {
        do {
            _ = try AgentConfiguration.parse(yaml: "service: a\nserver:\n  port: [1, 2\n", file: "bad.yaml", environment: [:])
            Issue.record("invalid YAML loaded")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems[0].line >= 3 && error.problems[0].description.contains("not valid YAML"), "\(error)")
        }
        do {
            _ = try AgentConfiguration.parse(yaml: "service: a\nservice: b\n", file: "dup.yaml", environment: [:])
            Issue.record("a duplicated key loaded")
        } catch {
            #expect(error.description.contains("service"), "\(error)")
        }
    }

    /// Every key given twice is reported, in every mapping, not only the first Yams meets.
    @Test func everyDuplicatedKeyIsReported() {
        let yaml = """
            service: a
            server:
              port: 1
              # a comment
              port: 2
            health:
              checks:
                - name: a
                  type: tcp
                  port: 1
                  type: disk
                - name: b
                  type: tcp
                  note: |
                    name: not a key
                    name: still text
            service: b
            events:
              stdout: off
              stdout: json
            """
        do {
            _ = try AgentConfiguration.parse(yaml: yaml, file: "dup.yaml", environment: [:])
            Issue.record("duplicated keys loaded")
        } catch {
            #expect(error.problems.map(\.description) == [
                "dup.yaml:5: server.port: key given more than once (first on line 3)",
                "dup.yaml:11: health.checks[0].type: key given more than once (first on line 9)",
                "dup.yaml:17: service: key given more than once (first on line 1)",
                "dup.yaml:20: events.stdout: key given more than once (first on line 19)",
            ])
        }
    }

    /// A file of thirty thousand unknown keys (under the 1 MiB a configuration may be): the
    /// problems are capped (kept and shown), with the count of the rest, and reading it stays fast.
    @Test func aFloodOfProblemsIsCappedWithTheCountOfTheRest() {
        var yaml = "server:\n"
        for index in 0..<30_000 { yaml += "  unknown_key_\(index): 1\n" }
        let started = ContinuousClock.now
        do {
            _ = try AgentConfiguration.parse(yaml: yaml, file: "big.yaml", environment: [:])
            Issue.record("a file of unknown keys loaded")
        } catch {
            #expect(error.problems.count == AgentConfigurationError.keptProblems)
            #expect(error.moreProblems == 30_000 - AgentConfigurationError.keptProblems)
            let lines = error.description.split(separator: "\n")
            #expect(lines.count == AgentConfigurationError.shownProblems + 2, "a header, the shown problems and the count of the rest")
            #expect(lines.first == "30000 problem(s) in the configuration:")
            #expect(lines.last == "  … and 29900 more problem(s) not shown")
            #expect(lines[1] == "  big.yaml:2: server.unknown_key_0: unknown key; expected one of dashboard, degraded_status, header_timeout, host, idle_timeout, max_connections, port, request_timeout, show_details, stream_client_queue_kib, stream_clients, summary_refresh")
        }
        print("30,000 unknown keys read in \(ContinuousClock.now - started)")
    }

    @Test func secretsResolveFromTheEnvFileAndNeverAppearInProblems() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let secret = "sk-thisisasecretvalue0123456789"
        try directory.write("dotenv", "OPENAI_API_KEY=\(secret)\nCHUNK_SIZE=lots\n")
        try directory.write("agent.yaml", """
            health:
              checks:
                - name: openai
                  type: http
                  url: https://api.openai.com/v1/models
                  headers: {Authorization: "Bearer ${OPENAI_API_KEY}"}
            config:
              env_file: dotenv
              rules:
                - {key: OPENAI_API_KEY, format: secret, prefix: [sk-proj-]}
                - {key: CHUNK_SIZE, format: integer, min: 100, max: 4000}
            """)
        let configuration = try AgentConfiguration.load(path: directory.path + "/agent.yaml", environment: [:])
        #expect(configuration.secrets == [secret])
        let report = ConfigValidator(rules: configuration.validation.allRules).validate(configuration.sources)
        #expect(report.problems.map(\.key) == ["OPENAI_API_KEY", "CHUNK_SIZE"])
        #expect(report.problems.map(\.source) == ["\(directory.path)/dotenv:1", "\(directory.path)/dotenv:2"])
        #expect(!report.text.contains(secret) && !report.json.jsonText.contains(secret))
        // A redactor built from the configuration removes the value wherever it appears.
        let redactor = Redactor(knownSecrets: configuration.secrets)
        #expect(redactor.redacted("failed with key=\(secret)!") == "failed with key=[REDACTED]!")
    }

    @Test func valuesInTheFileComeAfterTheEnvironmentAndTheEnvFileAndNeverHoldSecrets() throws {
        let yaml = """
            config:
              preset: rag
              values:
                CHUNK_SIZE: "800"
                TOP_K: "7"
                OPENAI_API_KEY: sk-in-the-file-0123456789abcdef
            """
        do {
            _ = try AgentConfiguration.parse(yaml: yaml, file: "agent.yaml", environment: [:])
            Issue.record("a secret in the file was accepted")
        } catch {
            #expect(error.problems.map(\.description) == [
                "agent.yaml:6: config.values.OPENAI_API_KEY: a secret does not belong in the configuration file; set it in the environment or in the .env file",
            ])
            #expect(!error.description.contains("sk-in-the-file"))
        }
        let configuration = try AgentConfiguration.parse(yaml: yaml.replacing("    OPENAI_API_KEY: sk-in-the-file-0123456789abcdef\n", with: "")
                                                            .replacing("\n    OPENAI_API_KEY: sk-in-the-file-0123456789abcdef", with: ""),
                                                         file: "agent.yaml", environment: ["TOP_K": "9"])
        let chunkSize = configuration.sources.value(of: "CHUNK_SIZE"), topK = configuration.sources.value(of: "TOP_K")
        #expect(chunkSize?.value == "800" && chunkSize?.source == "agent.yaml:4")
        #expect(topK?.value == "9" && topK?.source == "environment")
    }
}
