/// Where configuration values come from, with the documented precedence: the process
/// environment first, then the `.env` file, then values set in a configuration file (the
/// agent's `config.values`), then the rule's default.
public struct ConfigSources: Sendable {
    /// A value and where it was found (`environment`, `.env:12`, `default`).
    public struct Found: Sendable, Hashable {
        /// The value.
        public var value: String
        /// Where it came from, as a user would look for it.
        public var source: String
    }

    /// The process environment (or a test's).
    public var environment: [String: String]
    /// The `.env` file's values, with their line numbers.
    public var dotEnv: [String: (value: String, line: Int)]
    /// The `.env` file's name, for sources and problems.
    public var dotEnvName: String
    /// Lines of the `.env` file that could not be read.
    public var dotEnvProblems: [String]
    /// Values from a configuration file, with their lines.
    public var fileValues: [String: (value: String, line: Int)] = [:]
    /// The configuration file's name, for sources.
    public var fileName = ""

    /// Sources from an environment and the text of a `.env` file (if any).
    public init(environment: [String: String], dotEnv text: String? = nil, dotEnvName: String = ".env") {
        self.environment = environment
        self.dotEnvName = dotEnvName
        var values: [String: (value: String, line: Int)] = [:]
        var problems: [String] = []
        for (index, rawLine) in (text ?? "").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).trimmingWhitespace() }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append("\(dotEnvName):\(index + 1): expected KEY=VALUE")
                continue
            }
            let key = line[..<equals].trimmingWhitespace()
            var value = line[line.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            } else if let comment = value.firstRange(of: " #") {
                value = value[..<comment.lowerBound].trimmingWhitespace()
            }
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                problems.append("\(dotEnvName):\(index + 1): '\(key)' is not a valid variable name")
                continue
            }
            values[String(key)] = (String(value), index + 1)
        }
        self.dotEnv = values
        self.dotEnvProblems = problems
    }

    /// The value of `key`, from the first source that has it.
    public func value(of key: String) -> Found? {
        if let value = environment[key] { return Found(value: value, source: "environment") }
        if let entry = dotEnv[key] { return Found(value: entry.value, source: "\(dotEnvName):\(entry.line)") }
        if let entry = fileValues[key] { return Found(value: entry.value, source: "\(fileName):\(entry.line)") }
        return nil
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> Substring {
        let text = Substring(self)
        guard let start = text.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let end = text.lastIndex(where: { !$0.isWhitespace })!
        return text[start...end]
    }
}
