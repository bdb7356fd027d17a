import ArgumentParser
import Hardening

#if canImport(Glibc)
import Glibc
#endif

/// `hardening validate-config`: checks the service's configuration and reports every problem at
/// once; secrets are never printed.
struct ValidateConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-config",
        abstract: "Check the service's configuration (environment, then the .env file, then defaults) and report every problem.",
        discussion: """
            Precedence: the process environment, then the .env file, then the rule's default. Each \
            problem names the variable as you wrote it, where its value came from (environment, \
            .env:LINE, default, missing), what was expected and what to do. A secret's value is \
            never shown, not even a wrong one: only that it is set, its length and its expected prefix.

            Exit codes: 0 every check passed; 1 at least one problem; 64 usage error.
            """
    )

    @Option(name: .customLong("env-file"), help: "The .env file to read (default: ./.env if it exists).")
    var envFile: String?

    @Option(help: "text (the guide's report) or json.")
    var format: ConfigFormat = .text

    @Option(help: "The rules to check: rag (the original RAG service: OpenAI, Pinecone, Notion, Zotero, pipeline values).")
    var preset: ConfigPreset = .rag

    func run() throws {
        let path = envFile ?? ".env"
        let text: String?
        do {
            text = try Self.read(path)
        } catch {
            guard envFile == nil else {
                FileHandleStandardError.write("hardening validate-config: \(error)\n")
                throw ExitCode(1)
            }
            text = nil
        }
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") { environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]) }
            entry += 1
        }
        let sources = ConfigSources(environment: environment, dotEnv: text, dotEnvName: path)
        let report = ConfigValidator(rules: preset.rules).validate(sources)
        let out = OutputStream()
        switch format {
        case .text: out.write(report.text)
        case .json: out.write(report.json.jsonText + "\n")
        }
        out.close()
        if !report.passed { throw ExitCode(1) }
    }

    static func read(_ path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw OutputError(path: path, code: errno, verb: "read") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
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
