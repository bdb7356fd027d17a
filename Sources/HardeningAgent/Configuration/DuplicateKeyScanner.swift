// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
/// Finds every key given twice in the same block mapping of a YAML text, with its line and key
/// path. Yams stops at the first mapping that has a duplicate; this reads the lines the way a
/// person indents them (block mappings, `- ` list items, comments, `|` and `>` block scalars)
/// so that one run names every duplicate. It is consulted only after Yams has reported one, so
/// a YAML shape it does not follow (flow mappings, say) costs nothing but Yams's own message.
enum DuplicateKeyScanner {
    struct Duplicate: Equatable {
        /// 1-based line of the repeated key.
        var line: Int
        /// The key path, `server.port`, `health.checks[1].name`.
        var key: String
        /// Where the key was given first.
        var firstLine: Int
    }

    private struct Frame {
        var column: Int
        var path: String
        var keys: [String: Int] = [:]
        var lastKey: String?
        var items = 0
    }

    static func duplicates(in yaml: String) -> [Duplicate] {
        var found: [Duplicate] = []
        var frames = [Frame(column: 0, path: "")]
        var blockScalarIndent: Int?
        var lineNumber = 0
        for rawLine in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let indent = line.prefix { $0 == " " }.count
            var content = line.dropFirst(indent)
            if content.isEmpty || content.hasPrefix("#") { continue }
            if let scalarIndent = blockScalarIndent {
                if indent > scalarIndent { continue }
                blockScalarIndent = nil
            }
            if content.hasPrefix("---") || content.hasPrefix("...") {
                frames = [Frame(column: 0, path: "")]
                continue
            }
            var column = indent
            // A list item starts a new mapping at the column of its first key.
            if content == "-" || content.hasPrefix("- ") {
                while frames.count > 1 && frames[frames.count - 1].column > column { frames.removeLast() }
                let parent = frames.count - 1
                // The list belongs to the last key of the mapping around it.
                let listPath = path(frames[parent].path, frames[parent].lastKey)
                let index = frames[parent].items
                frames[parent].items += 1
                content = content.dropFirst(1).drop { $0 == " " }
                column = indent + (line.count - indent - content.count)
                frames.append(Frame(column: column, path: "\(listPath)[\(index)]"))
                if content.isEmpty { continue }
            }
            guard let key = key(of: content) else { continue }
            while frames.count > 1 && frames[frames.count - 1].column > column { frames.removeLast() }
            if frames[frames.count - 1].column < column {
                let parent = frames[frames.count - 1]
                frames.append(Frame(column: column, path: path(parent.path, parent.lastKey)))
            }
            let top = frames.count - 1
            if let first = frames[top].keys[key] {
                found.append(Duplicate(line: lineNumber, key: path(frames[top].path, key), firstLine: first))
            } else {
                frames[top].keys[key] = lineNumber
            }
            if frames[top].lastKey != key { frames[top].items = 0 }
            frames[top].lastKey = key
            let value = content.drop { $0 != ":" }.dropFirst().drop { $0 == " " }
            if value.hasPrefix("|") || value.hasPrefix(">") { blockScalarIndent = indent }
        }
        return found
    }

    /// The key of a `key: value` or `key:` line (plain, single- or double-quoted).
    private static func key(of content: Substring) -> String? {
        if let quote = content.first, quote == "\"" || quote == "'" {
            let rest = content.dropFirst()
            guard let end = rest.firstIndex(of: quote) else { return nil }
            let after = rest[rest.index(after: end)...]
            guard after.hasPrefix(":") else { return nil }
            return String(rest[..<end])
        }
        guard let colon = content.firstIndex(where: { $0 == ":" }) else { return nil }
        let after = content[content.index(after: colon)...]
        guard after.isEmpty || after.hasPrefix(" ") || after.hasPrefix("\t") else { return nil }
        let key = content[..<colon].trimmingTrailingSpaces()
        guard !key.isEmpty, !key.contains("#"), !key.hasPrefix("{"), !key.hasPrefix("[") else { return nil }
        return String(key)
    }

    private static func path(_ parent: String, _ key: String?) -> String {
        guard let key else { return parent }
        return parent.isEmpty ? key : "\(parent).\(key)"
    }
}

extension Substring {
    fileprivate func trimmingTrailingSpaces() -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
        return self[startIndex..<end]
    }
}
#endif
