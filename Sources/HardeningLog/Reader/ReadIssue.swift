/// Something a reader found wrong in its input, with where it was. Readers report and go on.
public struct ReadIssue: Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A line that is not a valid event (bad JSON, wrong types, missing fields).
        case badLine = "bad_line"
        /// The input ends with a line that has no newline: a write torn by a crash.
        case tornLine = "torn_line"
        /// A line longer than the reader's limit; skipped without being held in memory.
        case lineTooLong = "line_too_long"
        /// The input ends inside a gzip member.
        case truncatedGzip = "truncated_gzip"
        /// Corrupt gzip data (bad CRC, invalid deflate data, garbage between members).
        case corruptGzip = "corrupt_gzip"
        /// The file could not be opened or read.
        case unreadable
    }

    /// The file (or `-` for standard input).
    public var file: String
    /// The 1-based line number in the (decompressed) input, when the issue is about a line.
    public var line: Int?
    /// The byte offset in the file (compressed bytes for gzip), when known.
    public var offset: Int64?
    /// The kind of problem.
    public var kind: Kind
    /// What was wrong.
    public var message: String

    /// Creates an issue.
    public init(file: String, line: Int? = nil, offset: Int64? = nil, kind: Kind, message: String) {
        self.file = file
        self.line = line
        self.offset = offset
        self.kind = kind
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let offset { location += " (byte \(offset))" }
        return "\(location): \(kind.rawValue): \(message)"
    }
}
