import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import HTTPTypes
import HardeningTestSupport
import Hummingbird
import NIOCore
import Testing

/// `hardening health-check` with no arguments, as the guide's `python scripts/health_check.py`:
/// real loopback servers stand in for Notion, Pinecone, OpenAI and Zotero through the base-URL
/// variables; healthy, one slow, one down, one key missing; exit codes, the guide's report, and
/// no key in any output.
@Suite(.serialized) struct GuideHealthCheckTests {
    static let keys = [
        "NOTION_API_KEY": "secret_notionkey0123456789abcdefghijklmnop",
        "PINECONE_API_KEY": "pcsk_pineconekey0123456789abcdef",
        "OPENAI_API_KEY": "sk-openaikey0123456789abcdefghijklmnop",
        "ZOTERO_API_KEY": "zoterokey0123456789abcd",
    ]

    static func services(slowOpenAI: Bool) -> Router<BasicRequestContext> {
        let router = Router()
        @Sendable func json(_ text: String) -> Response {
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/v1/users/me") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(keys["NOTION_API_KEY"]!)",
                request.headers[HTTPField.Name("Notion-Version")!] != nil
            else { return Response(status: .unauthorized) }
            return json(#"{"object":"user","type":"bot"}"#)
        }
        router.get("/describe_index_stats") { request, _ -> Response in
            guard request.headers[HTTPField.Name("Api-Key")!] == keys["PINECONE_API_KEY"] else { return Response(status: .unauthorized) }
            return json(#"{"dimension":1536,"totalVectorCount":2809}"#)
        }
        router.get("/v1/models") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(keys["OPENAI_API_KEY"]!)" else { return Response(status: .unauthorized) }
            if slowOpenAI { try await Task.sleep(for: .seconds(120)) }
            return json(#"{"object":"list","data":[]}"#)
        }
        router.get("/users/4242/items") { request, _ -> Response in
            guard request.headers[HTTPField.Name("Zotero-API-Key")!] == keys["ZOTERO_API_KEY"] else { return Response(status: .forbidden) }
            return json("[]")
        }
        return router
    }

    static func environment(port: Int, notionPort: Int? = nil) -> [String: String] {
        let base = "http://127.0.0.1:\(port)"
        return keys.merging([
            "NOTION_BASE_URL": "http://127.0.0.1:\(notionPort ?? port)", "PINECONE_BASE_URL": base, "OPENAI_BASE_URL": base + "/v1",
            "ZOTERO_BASE_URL": base, "ZOTERO_LIBRARY_ID": "4242", "PINECONE_INDEX_NAME": "rag-chunks",
            "NOTION_DATABASE_ID": "0123456789abcdef0123456789abcdef",
        ]) { $1 }
    }

    static func run(_ environment: [String: String], _ arguments: [String] = []) async throws -> (status: Int32, text: String) {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write(".env", "# empty: everything comes from the environment\n")
        let result = try await ChildProcess.runDetached(
            [ChildProcess.hardeningExecutable, "health-check", "--env-file", directory.path + "/.env"]
                + (arguments.contains("--timeout") ? [] : ["--timeout", "30"]) + arguments, environment: environment)
        let text = String(decoding: result.stdout, as: UTF8.self) + result.stderr
        for key in keys.values { #expect(!text.contains(key), "a key in the output") }
        return (result.status, text)
    }

    @Test func healthyServicesGiveTheGuidesReportAndExitZero() async throws {
        try await TestServer.with(Self.services(slowOpenAI: false)) { port in
            let (status, text) = try await Self.run(Self.environment(port: port))
            #expect(status == 0, "\(text)")
            for name in ["Notion API", "Pinecone API", "OpenAI API", "Zotero API", "Configuration"] {
                #expect(text.contains("✅ \(name): HEALTHY\n"), "\(name): \(text)")
            }
            #expect(text.contains("   total_vectors: 2809\n") && text.contains("   Latency: "), "\(text)")
            #expect(text.hasSuffix("✅ System is healthy!\n"), "\(text)")
            let (jsonStatus, json) = try await Self.run(Self.environment(port: port), ["--format", "json"])
            #expect(jsonStatus == 0)
            let document = try JSONDocument.parse(Array(json.utf8))
            #expect(document["overall_status"] == "healthy" && document["services"]?["Pinecone API"]?["total_vectors"] == .int(2809))
        }
    }

    /// `validate-config` without `--config` probes the same services unless `--offline`.
    @Test func validateConfigProbesTheGuidesServicesUnlessOffline() async throws {
        try await TestServer.with(Self.services(slowOpenAI: false)) { port in
            var environment = Self.environment(port: port)
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            try directory.write(".env", "\n")
            let online = try await ChildProcess.runDetached(
                [ChildProcess.hardeningExecutable, "validate-config", "--env-file", directory.path + "/.env", "--timeout", "30"],
                environment: environment)
            let text = String(decoding: online.stdout, as: UTF8.self)
            #expect(online.status == 0, "\(text)\(online.stderr)")
            #expect(text.contains("✅ connectivity:Pinecone API (network): HTTP 200") && text.contains("✅ connectivity:Zotero API"), "\(text)")
            environment["NOTION_BASE_URL"] = "http://127.0.0.1:1"
            let refused = try await ChildProcess.runDetached(
                [ChildProcess.hardeningExecutable, "validate-config", "--env-file", directory.path + "/.env", "--timeout", "30"],
                environment: environment)
            let refusedText = String(decoding: refused.stdout, as: UTF8.self)
            #expect(refused.status == 1 && refusedText.contains("❌ connectivity:Notion API (network)"), "\(refusedText)")
            for key in Self.keys.values { #expect(!refusedText.contains(key) && !text.contains(key)) }
        }
    }

    @Test func aSlowServiceADownOneAndAMissingKeyEachFailTheVerdict() async throws {
        try await TestServer.with(Self.services(slowOpenAI: true)) { port in
            let (slowStatus, slow) = try await Self.run(Self.environment(port: port), ["--timeout", "15"])
            #expect(slowStatus == 1, "\(slow)")
            #expect(slow.contains("❌ OpenAI API: UNHEALTHY\n") && slow.contains("timeout"), "\(slow)")
            #expect(slow.contains("✅ Notion API: HEALTHY") && slow.contains("❌ System is unhealthy: OpenAI API failing"), "\(slow)")
        }
        try await TestServer.with(Self.services(slowOpenAI: false)) { port in
            // Port 1 on loopback: nobody listens there.
            let (downStatus, down) = try await Self.run(Self.environment(port: port, notionPort: 1))
            #expect(downStatus == 1 && down.contains("❌ Notion API: UNHEALTHY"), "\(down)")
            var missing = Self.environment(port: port)
            missing["NOTION_API_KEY"] = nil
            let (missingStatus, missingText) = try await Self.run(missing)
            #expect(missingStatus == 1, "\(missingText)")
            #expect(missingText.contains("❌ Notion API: UNHEALTHY\n   NOTION_API_KEY is not set"), "\(missingText)")
            #expect(missingText.contains("❌ Configuration: UNHEALTHY"), "the configuration check names the key too: \(missingText)")
        }
    }
}
