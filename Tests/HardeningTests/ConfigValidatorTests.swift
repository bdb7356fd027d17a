import Hardening
import HardeningTestKit
import Testing

@Suite struct ConfigValidatorTests {
    private let secrets = ["sk-live-verysecretvalue123", "wrong-notion-secret-value", "pc secret with space"]

    private var valid: [String: String] {
        [
            "OPENAI_API_KEY": "sk-live-verysecretvalue123", "PINECONE_API_KEY": "pcsk_abcdef", "PINECONE_INDEX_NAME": "docs",
            "NOTION_API_KEY": "ntn_abcdef", "NOTION_DATABASE_ID": "0123456789abcdef0123456789ABCDEF", "ZOTERO_API_KEY": "zot",
            "ZOTERO_LIBRARY_ID": "42",
        ]
    }

    @Test func aCompleteConfigurationPassesWithDefaultsFilledIn() {
        let report = ConfigValidator(rules: ConfigRule.ragService).validate(ConfigSources(environment: valid))
        #expect(report.passed)
        #expect(report.text.hasSuffix("✅ All configuration checks passed!\n"))
        #expect(report.findings.first { $0.key == "CHUNK_SIZE" }?.source == "default")
        #expect(report.findings.first { $0.key == "OPENAI_API_KEY" }?.detail == "set (26 characters, starts with sk-)")
    }

    @Test func everyProblemIsReportedAtOnceWithKeySourceAndRemedyAndNoSecret() async throws {
        let sink = InMemorySink()
        let bus = EventBus(configuration: .init(service: "rag", volume: .full), sinks: [sink])
        var environment = valid
        environment["NOTION_API_KEY"] = "wrong-notion-secret-value"
        environment["ZOTERO_API_KEY"] = nil
        let dotEnv = """
            # the pipeline
            export CHUNK_SIZE=50  # too small
            PINECONE_API_KEY="pc secret with space"
            OPENAI_API_KEY=ignored-because-the-environment-wins
            TEMPERATURE='0.7'
            not a pair
            """
        let sources = ConfigSources(environment: environment.filter { $0.key != "PINECONE_API_KEY" }, dotEnv: dotEnv)
        let report = ConfigValidator(rules: ConfigRule.ragService).validate(sources, bus: bus)
        #expect(!report.passed)
        #expect(Set(report.problems.map(\.key)) == ["NOTION_API_KEY", "ZOTERO_API_KEY", "CHUNK_SIZE", "PINECONE_API_KEY"])
        let byKey = Dictionary(uniqueKeysWithValues: report.findings.map { ($0.key, $0) })
        #expect(byKey["CHUNK_SIZE"]?.source == ".env:2" && byKey["CHUNK_SIZE"]?.detail.contains("100...8000, got 50") == true)
        #expect(byKey["OPENAI_API_KEY"]?.source == "environment", "the environment comes before the .env file")
        #expect(byKey["TEMPERATURE"]?.ok == true && byKey["TEMPERATURE"]?.detail == "0.7")
        #expect(byKey["ZOTERO_API_KEY"]?.source == "missing" && byKey["ZOTERO_API_KEY"]?.detail.contains("zotero.org") == true)
        #expect(report.fileProblems == [".env:6: expected KEY=VALUE"])
        await bus.shutdown()
        #expect(sink.events.filter { $0.kind == .configChecked }.count == ConfigRule.ragService.count)
        // A secret's value appears nowhere: not in the text, the JSON or any event, right or wrong.
        let everything = report.text + report.json.jsonText + sink.events.map { $0.message + AttributeValue.object($0.attrs).jsonText }.joined()
        for secret in secrets { #expect(!everything.contains(secret), "\(secret) leaked") }
    }

    @Test(arguments: [
        (ConfigRule.Format.url, "https://api.example.com/v1", true), (.url, "ftp://x", false), (.url, "not a url", false),
        (.identifier, "12345678-1234-1234-1234-123456789abc", true), (.identifier, "0123456789abcdef0123456789abcdef", true),
        (.identifier, "0123456789abcdef", false), (.integer(1...10), "10", true), (.integer(1...10), "11", false),
        (.number(0...2), "1.5", true), (.number(0...2), "nan", false), (.oneOf(["a", "b"]), "b", true), (.oneOf(["a"]), "c", false),
        (.text, "", false), (.secret(prefix: ["sk-"]), "sk-1", true), (.secret(prefix: ["sk-"]), "pk-1", false),
    ])
    func formats(format: ConfigRule.Format, value: String, valid: Bool) {
        let report = ConfigValidator(rules: [ConfigRule("KEY", format, help: "")]).validate(ConfigSources(environment: ["KEY": value]))
        #expect(report.passed == valid)
    }
}
