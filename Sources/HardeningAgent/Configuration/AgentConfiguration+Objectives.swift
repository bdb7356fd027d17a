// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningLog
import Yams

extension AgentConfiguration {
    /// Reads `objectives` (a list such as `- search=99.9%` and `- search:p99<300ms`) and
    /// `objective_period` (`30d` unless set) from the file's top level; each objective that does
    /// not parse is a problem with its line.
    static func readObjectives(_ top: YAMLFields, into configuration: inout AgentConfiguration, problems: ProblemCollector) {
        if let text = top.string("objective_period") {
            // Days are what objectives are counted in (30d), which the other durations do not take.
            if let seconds = TimeArgument.seconds(text), seconds >= 1, seconds < 1e10 {
                configuration.objectivePeriod = .milliseconds(Int64(seconds * 1000))
            } else {
                problems.add(top.lineOf("objective_period"), "objective_period", "expected a duration such as 30d, 7d or 12h, got '\(text)'")
            }
        }
        for (index, text) in (top.strings("objectives") ?? []).enumerated() {
            do throws(ObjectiveError) {
                configuration.objectives.append(try Objective(parsing: text))
            } catch {
                problems.add(top.lineOf("objectives"), "objectives[\(index)]", error.description)
            }
        }
    }

    /// The objectives of the agent configuration at `path` and their period, read alone (what
    /// `hardening replay --config` measures): the rest of the file, its checks and their
    /// secrets, is the agent's business and is not checked here.
    package static func objectives(inFile path: String, fileSystem: some FileSystem = PosixFileSystem()) throws(AgentConfigurationError)
        -> (objectives: [Objective], period: Duration)
    {
        let text: String
        do {
            text = try fileSystem.readText(path)
        } catch {
            throw AgentConfigurationError(problems: [ConfigFileProblem(file: path, line: 0, key: "", message: "cannot read: \(error)")])
        }
        guard text.utf8.count <= maxFileBytes else {
            throw AgentConfigurationError(problems: [ConfigFileProblem(file: path, line: 0, key: "", message: "is larger than 1 MiB")])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        } catch {
            throw AgentConfigurationError(problems: [ConfigFileProblem(file: path, line: 0, key: "", message: "not YAML: \(error)")])
        }
        let problems = ProblemCollector(file: path)
        var configuration = AgentConfiguration()
        readObjectives(YAMLFields(root, path: "", line: 1, problems: problems), into: &configuration, problems: problems)
        if !problems.problems.isEmpty { throw problems.error }
        return (configuration.objectives, configuration.objectivePeriod)
    }
}
#endif
