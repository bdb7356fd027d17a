// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening

/// Which event kinds a stream client asked for: `?kinds=health.probed,breaker.*` is
/// `health.probed` and every kind that starts with `breaker.`; no list (or an empty one) is
/// every kind.
public struct EventKindFilter: Sendable, Hashable, CustomStringConvertible {
    /// Kinds named exactly.
    public private(set) var kinds: Set<String> = []
    /// Prefixes of `family.*` items (`breaker.`).
    public private(set) var prefixes: [String] = []

    /// Every kind.
    public static let all = EventKindFilter()

    private init() {}

    /// What was wrong with a `kinds` list.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The item that is not a kind, as given.
        public var item: String
        public var description: String {
            "kinds: \"\(item)\" is not an event kind (lowercase dotted words such as health.probed, or a family such as breaker.*)"
        }
    }

    /// Parses a comma-separated list of kinds and `family.*` items; spaces around items are
    /// ignored, empty items and anything else but `a-z 0-9 _ .` are refused.
    public init(parsing list: String) throws(ParseError) {
        let items = list.split(separator: ",", omittingEmptySubsequences: false).map(Self.trimmed)
        if items == [""] { return }
        for item in items {
            let name = item.hasSuffix(".*") ? String(item.dropLast(1)) : item
            let body = item.hasSuffix(".*") ? String(name.dropLast()) : name
            // A kind is dotted words (`health.probed`): a word alone (`bogus`) matches nothing ever
            // written, and a stream that would never send is refused instead.
            guard EventKind.isWellFormed(body), item.hasSuffix(".*") || body.contains(".") else { throw ParseError(item: item) }
            if item.hasSuffix(".*") { prefixes.append(name) } else { kinds.insert(name) }
        }
    }

    private static func trimmed(_ item: Substring) -> String {
        String(String(item.drop { $0 == " " }.reversed().drop { $0 == " " }).reversed())
    }

    /// Whether every kind passes.
    public var isAll: Bool { kinds.isEmpty && prefixes.isEmpty }

    /// Whether `kind` passes.
    public func matches(_ kind: EventKind) -> Bool {
        isAll || kinds.contains(kind.rawValue) || prefixes.contains { kind.rawValue.hasPrefix($0) }
    }

    public var description: String { isAll ? "all" : (kinds.sorted() + prefixes.sorted().map { $0 + "*" }).joined(separator: ",") }
}
#endif
