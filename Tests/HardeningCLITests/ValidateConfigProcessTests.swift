import Foundation
import HardeningTestKit
import HardeningTestSupport
import Testing

/// `hardening validate-config` as a real child process with a clean environment.
@Suite struct ValidateConfigProcessTests {
    private let hardening = ChildProcess.hardeningExecutable
    private let secret = "sk-live-do-not-print-me-0123456789"

    private func run(_ environment: [String], _ arguments: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.runDetached(["env", "-i"] + environment + [hardening, "validate-config"] + arguments)
    }

    @Test func aValidConfigurationPassesAndProblemsExitOneWithoutPrintingSecrets() async throws {
        let directory = TemporaryDirectory(prefix: "validate-config")
        defer { directory.remove() }
        let envFile = directory.path + "/.env"
        try """
            PINECONE_API_KEY=pcsk_file_secret_value
            PINECONE_INDEX_NAME=docs
            NOTION_API_KEY=ntn_file_secret_value
            NOTION_DATABASE_ID=0123456789abcdef0123456789abcdef
            ZOTERO_API_KEY=zotero_file_secret_value
            ZOTERO_LIBRARY_ID=12345
            """.write(toFile: envFile, atomically: true, encoding: .utf8)
        let passed = try await run(["OPENAI_API_KEY=\(secret)"], ["--env-file", envFile, "--offline"])
        let text = String(decoding: passed.stdout, as: UTF8.self)
        #expect(passed.status == 0, "\(text)")
        #expect(text.contains("✅ All configuration checks passed!"))
        #expect(text.contains("⏭️ connectivity skipped (--offline): Notion API, Pinecone API, OpenAI API, Zotero API"), "\(text)")
        #expect(text.contains("NOTION_DATABASE_ID (\(envFile):4)"))

        let failed = try await run(["OPENAI_API_KEY=pk-\(secret)", "CHUNK_SIZE=9"], ["--env-file", envFile, "--format", "json", "--offline"])
        let json = String(decoding: failed.stdout, as: UTF8.self)
        #expect(failed.status == 1)
        #expect(json.contains(#""passed":false"#) && json.contains(#""key":"CHUNK_SIZE","source":"environment","ok":false"#))
        for value in [secret, "pcsk_file_secret_value", "ntn_file_secret_value", "zotero_file_secret_value"] {
            #expect(!json.contains(value) && !failed.stderr.contains(value) && !text.contains(value), "a secret was printed")
        }

        let missingFile = try await run([], ["--env-file", directory.path + "/nope.env"])
        #expect(missingFile.status == 1 && missingFile.stderr.contains("cannot read"))
        let help = try await ChildProcess.runDetached([hardening, "validate-config", "--help"])
        #expect(String(decoding: help.stdout, as: UTF8.self).contains("Exit codes"))
    }
}
