/// One configuration value a service needs: its key as the user writes it (an environment
/// variable), whether it must be set, what a valid value looks like, and what to do when it is
/// not. Secrets are never shown, not even a wrong value.
public struct ConfigRule: Sendable {
    /// What a valid value looks like.
    public enum Format: Sendable {
        /// Any non-empty text.
        case text
        /// A secret (API key, token): shown only as set or not; `prefix`, if given, must start it.
        case secret(prefix: [String] = [])
        /// An absolute `http` or `https` URL.
        case url
        /// A UUID, or a Notion-style id (32 hex digits, with or without dashes).
        case identifier
        /// A whole number in the range.
        case integer(ClosedRange<Int64>)
        /// A number in the range.
        case number(ClosedRange<Double>)
        /// One of these words.
        case oneOf([String])
    }

    /// The key as written in the environment or the `.env` file.
    public var key: String
    /// What a valid value looks like.
    public var format: Format
    /// Used when the key is not set; `nil`: the key is required.
    public var defaultValue: String?
    /// What the value is for, and where to get it (shown with a problem).
    public var help: String

    /// Creates a rule.
    public init(_ key: String, _ format: Format, default defaultValue: String? = nil, help: String) {
        self.key = key
        self.format = format
        self.defaultValue = defaultValue
        self.help = help
    }

    /// Whether values of this rule are secret.
    public var isSecret: Bool {
        if case .secret = format { return true }
        return false
    }

    /// What is wrong with `value`, or `nil` if it is valid. Never quotes a secret.
    func problem(with value: String) -> String? {
        switch format {
        case .text:
            return value.isEmpty ? "expected a non-empty value" : nil
        case .secret(let prefixes):
            if value.isEmpty { return "expected a secret, got an empty value" }
            if value.contains(where: \.isWhitespace) { return "the secret contains whitespace (a copy-paste error?)" }
            guard prefixes.isEmpty || prefixes.contains(where: value.hasPrefix) else {
                return "expected a secret starting with \(prefixes.map { "'\($0)'" }.joined(separator: " or ")); the value set does not"
            }
            return nil
        case .url:
            let lower = value.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), value.split(separator: "/").count >= 2,
                !value.contains(where: \.isWhitespace)
            else { return "expected an http(s) URL, got '\(value)'" }
            return nil
        case .identifier:
            let hex = value.filter { $0 != "-" }
            guard hex.count == 32, hex.allSatisfy(\.isHexDigit), value.count == 32 || value.count == 36 else {
                return "expected a UUID or a 32-hex-digit id, got '\(value)'"
            }
            return nil
        case .integer(let range):
            let expected = range.upperBound == .max
                ? "a whole number of at least \(range.lowerBound)" : "a whole number in \(range.lowerBound)...\(range.upperBound)"
            guard let number = Int64(value) else { return "expected \(expected), got '\(value)'" }
            return range.contains(number) ? nil : "expected \(expected), got \(number)"
        case .number(let range):
            guard let number = Double(value), number.isFinite else {
                return "expected a number in \(range.lowerBound)...\(range.upperBound), got '\(value)'"
            }
            return range.contains(number) ? nil : "expected a number in \(range.lowerBound)...\(range.upperBound), got \(value)"
        case .oneOf(let choices):
            return choices.contains(value) ? nil : "expected one of \(choices.joined(separator: ", ")), got '\(value)'"
        }
    }
}
