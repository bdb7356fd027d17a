// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import Yams

/// Collects problems while a configuration file is read.
final class ProblemCollector {
    let file: String
    /// The first ``AgentConfigurationError/keptProblems`` problems found.
    private(set) var problems: [ConfigFileProblem] = []
    /// Problems found beyond those.
    private(set) var more = 0

    init(file: String) { self.file = file }

    func add(_ line: Int, _ key: String, _ message: String) {
        guard problems.count < AgentConfigurationError.keptProblems else {
            more += 1
            return
        }
        problems.append(ConfigFileProblem(file: file, line: line, key: key, message: message))
    }

    var isEmpty: Bool { problems.isEmpty }

    /// Whether another problem would only be counted (its message is not worth building).
    var isFull: Bool { problems.count >= AgentConfigurationError.keptProblems }

    /// The error: the kept problems in file order, and how many more.
    var error: AgentConfigurationError {
        AgentConfigurationError(problems: problems.sorted { ($0.line, $0.key) < ($1.line, $1.key) }, moreProblems: more)
    }
}

/// Typed reads of one YAML mapping, each problem reported with file, line and key path; keys
/// nobody read are reported as unknown (with the closest known key).
final class YAMLFields {
    let path: String
    let line: Int
    private let entries: [(key: String, value: Node, line: Int)]
    private var read: Set<String> = []
    let problems: ProblemCollector

    init(_ node: Node?, path: String, line: Int, problems: ProblemCollector) {
        self.path = path
        self.problems = problems
        self.line = node?.mark?.line ?? line
        var entries: [(String, Node, Int)] = []
        if let node {
            if let mapping = node.mapping {
                for (key, value) in mapping {
                    let name = key.string ?? "\(key)"
                    entries.append((name, value, key.mark?.line ?? self.line))
                }
            } else if !Self.isNull(node) {
                problems.add(self.line, path, "expected a mapping of keys to values")
            }
        }
        self.entries = entries
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.tag == Tag(.null) || (scalar.string.isEmpty && scalar.style == .plain) || scalar.string == "~"
            || scalar.string == "null"
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func entry(_ key: String) -> (value: Node, line: Int)? {
        read.insert(key)
        guard let found = entries.first(where: { $0.key == key }), !Self.isNull(found.value) else { return nil }
        return (found.value, found.line)
    }

    /// Whether the key is present (even if null).
    func has(_ key: String) -> Bool { entries.contains { $0.key == key && !Self.isNull($0.value) } }

    func string(_ key: String) -> String? {
        guard let (node, line) = entry(key) else { return nil }
        guard case .scalar(let scalar) = node else {
            problems.add(line, keyPath(key), "expected a single value, got a \(Self.shape(node))")
            return nil
        }
        return scalar.string
    }

    func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) -> Int? {
        number(key, "a whole number", in: range) { Int($0.replacing("_", with: "")) }
    }

    func double(_ key: String, in range: ClosedRange<Double>) -> Double? {
        number(key, "a number", in: range) { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }

    /// A number of `range`, read by `parse`; a problem names `what` was expected.
    private func number<N: Comparable>(_ key: String, _ what: String, in range: ClosedRange<N>, parse: (String) -> N?) -> N? {
        guard let text = string(key), let line = entry(key)?.line else { return nil }
        guard let value = parse(text) else {
            problems.add(line, keyPath(key), "expected \(what), got '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            problems.add(line, keyPath(key), "expected \(what) in \(range.lowerBound)...\(range.upperBound), got \(text)")
            return nil
        }
        return value
    }

    func bool(_ key: String) -> Bool? {
        guard let text = string(key), let line = entry(key)?.line else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problems.add(line, keyPath(key), "expected true or false, got '\(text)'")
            return nil
        }
    }

    /// A duration: `250ms`, `5s`, `2m`, `1h`, or a number of seconds.
    func duration(_ key: String, minimum: Duration = .zero) -> Duration? {
        guard let text = string(key), let line = entry(key)?.line else { return nil }
        guard let value = Self.parseDuration(text) else {
            problems.add(line, keyPath(key), "expected a duration such as 250ms, 5s, 2m or 1h, got '\(text)'")
            return nil
        }
        guard value >= minimum else {
            problems.add(line, keyPath(key), "must be at least \(Int64(minimum.milliseconds)) ms, got '\(text)'")
            return nil
        }
        return value
    }

    static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: " ")
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number.isFinite, number >= 0 else { return nil }
            return .microseconds(Int64((number * scale * 1_000_000).rounded()))
        }
        guard let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 else { return nil }
        return .microseconds(Int64((seconds * 1_000_000).rounded()))
    }

    func oneOf(_ key: String, _ choices: [String]) -> String? {
        guard let text = string(key), let line = entry(key)?.line else { return nil }
        guard choices.contains(text) else {
            problems.add(line, keyPath(key), "expected one of \(choices.joined(separator: ", ")), got '\(text)'")
            return nil
        }
        return text
    }

    func fields(_ key: String) -> YAMLFields? {
        guard let (node, line) = entry(key) else { return nil }
        return YAMLFields(node, path: keyPath(key), line: line, problems: problems)
    }

    /// A list of mappings.
    func list(_ key: String) -> [YAMLFields] {
        guard let (node, line) = entry(key) else { return [] }
        guard let sequence = node.sequence else {
            problems.add(line, keyPath(key), "expected a list (lines starting with '- ')")
            return []
        }
        return sequence.enumerated().map { index, item in
            YAMLFields(item, path: "\(keyPath(key))[\(index)]", line: item.mark?.line ?? line, problems: problems)
        }
    }

    /// A list of single values; one value alone is a list of one.
    func strings(_ key: String) -> [String]? {
        guard let (node, line) = entry(key) else { return nil }
        if case .scalar(let scalar) = node { return [scalar.string] }
        guard let sequence = node.sequence else {
            problems.add(line, keyPath(key), "expected a list of values")
            return nil
        }
        var values: [String] = []
        for (index, item) in sequence.enumerated() {
            guard case .scalar(let scalar) = item else {
                problems.add(item.mark?.line ?? line, "\(keyPath(key))[\(index)]", "expected a single value")
                continue
            }
            values.append(scalar.string)
        }
        return values
    }

    /// A mapping of names to single values, in file order, with each value's line.
    func pairs(_ key: String) -> [(name: String, value: String, line: Int)] {
        guard let (node, line) = entry(key) else { return [] }
        guard let mapping = node.mapping else {
            problems.add(line, keyPath(key), "expected a mapping of names to values")
            return []
        }
        var pairs: [(String, String, Int)] = []
        for (name, value) in mapping {
            let valueLine = value.mark?.line ?? line
            guard case .scalar(let scalar) = value, let nameText = name.string else {
                problems.add(valueLine, "\(keyPath(key)).\(name.string ?? "?")", "expected a single value")
                continue
            }
            pairs.append((nameText, scalar.string, valueLine))
        }
        return pairs
    }

    func lineOf(_ key: String) -> Int { entries.first { $0.key == key }?.line ?? line }

    /// Reports every key that no read asked for; `known` are keys of the section that other
    /// variants use (a tcp check's `port` on an http check is "not used", not "unknown").
    func rejectUnknownKeys(known allKeys: [String] = [], variant: String? = nil) {
        let known = Set(read).union(allKeys).sorted()
        let knownSet = Set(allKeys)
        for entry in entries where !read.contains(entry.key) {
            if knownSet.contains(entry.key) {
                problems.add(entry.line, keyPath(entry.key), "not used by \(variant ?? "this section")")
                continue
            }
            guard !problems.isFull else {
                problems.add(entry.line, keyPath(entry.key), "")
                continue
            }
            var message = "unknown key"
            let allowed = max(2, entry.key.count / 3)
            // A key whose length differs from a known one by more than the allowed distance cannot be close to it.
            let closest = known.filter { abs($0.count - entry.key.count) <= allowed }.map { ($0, Self.distance($0, entry.key)) }.min { $0.1 < $1.1 }
            if let closest, closest.1 <= allowed {
                message += "; did you mean '\(closest.0)'?"
            } else if !known.isEmpty {
                message += "; expected one of \(known.joined(separator: ", "))"
            }
            problems.add(entry.line, keyPath(entry.key), message)
        }
    }

    private static func shape(_ node: Node) -> String {
        switch node {
        case .mapping: "mapping"
        case .sequence: "list"
        default: "value"
        }
    }

    /// Levenshtein distance, for suggestions.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}
#endif
