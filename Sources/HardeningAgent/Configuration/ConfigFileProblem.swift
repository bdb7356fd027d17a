/// One problem in an agent configuration file: where (file, line, the key path as written) and
/// what was wrong.
public struct ConfigFileProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file as given.
    public var file: String
    /// 1-based line, 0 when the problem concerns the whole file.
    public var line: Int
    /// The key path as written, `health.checks[1].url`; empty for the whole file.
    public var key: String
    /// What was wrong and what to do.
    public var message: String

    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}

/// An agent configuration file that cannot be used: every problem found, so that one edit can
/// fix them all. The agent does not start half-configured.
public struct AgentConfigurationError: Error, Sendable, CustomStringConvertible {
    /// Every problem, in file order.
    public var problems: [ConfigFileProblem]

    public var description: String {
        "\(problems.count) problem(s) in the configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
