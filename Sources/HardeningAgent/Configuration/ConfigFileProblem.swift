// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
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
    /// The problems, in file order: every one, up to ``keptProblems``.
    public var problems: [ConfigFileProblem]
    /// Problems found beyond ``keptProblems`` (counted, not kept: a file of a million bad keys
    /// must not take a million lines of memory and output).
    public var moreProblems: Int

    /// How many problems are kept; the description shows at most ``shownProblems`` of them.
    public static let keptProblems = 1000
    /// How many problems the description lists before saying how many more there are.
    public static let shownProblems = 100

    /// Creates the error.
    public init(problems: [ConfigFileProblem], moreProblems: Int = 0) {
        self.problems = problems
        self.moreProblems = moreProblems
    }

    public var description: String {
        let total = problems.count + moreProblems
        var text = "\(total) problem(s) in the configuration:\n" + problems.prefix(Self.shownProblems).map { "  \($0)" }.joined(separator: "\n")
        if total > Self.shownProblems { text += "\n  … and \(total - Self.shownProblems) more problem(s) not shown" }
        return text
    }
}
#endif
