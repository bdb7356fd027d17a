import Hardening

/// What one line of text becomes when it is emitted (`hardening emit`): a JSON object is an event
/// (its `event`, `level`, `message` and `attrs`, every other key added to the attrs); any other
/// line is a `log.message` whose message is the line. A line that looks like an event but cannot
/// be one (broken JSON, a wrong type, a kind the pipeline reserves) is still emitted, as text,
/// and ``problem`` says what was wrong.
package struct LineEvent: Sendable, Equatable {
    /// The level (`info` unless the object names one).
    package var level: EventLevel
    /// The kind.
    package var kind: EventKind
    /// The message.
    package var message: String
    /// The attrs.
    package var attrs: Attributes
    /// Why the line was emitted as text although it looked like an event; `nil` if it was fine.
    package var problem: String?

    /// Kinds the pipeline writes about itself: a line may not forge them.
    static let reservedPrefixes = ["file.", "bus.", "sink."]

    /// Reads one line (without its newline).
    package init(line: some Collection<UInt8>) {
        let bytes = Array(line)
        var start = 0
        while start < bytes.count, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        let text = String(decoding: bytes, as: UTF8.self)
        guard start < bytes.count, bytes[start] == UInt8(ascii: "{") else {
            self.init(text: text, problem: nil)
            return
        }
        let parsed: AttributeValue
        do throws(LineDecodingError) {
            parsed = try JSONDocument.parse(bytes)
        } catch {
            self.init(text: text, problem: "not a JSON object (\(error)); emitted as text")
            return
        }
        guard case .object(let object) = parsed else {
            self.init(text: text, problem: nil)
            return
        }
        switch LineEvent.event(from: object) {
        case .success(let event): self = event
        case .failure(let problem): self.init(text: text, problem: problem.message + "; emitted as text")
        }
    }

    private init(text: String, problem: String?) {
        level = .info
        kind = .logMessage
        message = text
        attrs = [:]
        self.problem = problem
    }

    private struct Problem: Error {
        var message: String
    }

    private static func event(from object: Attributes) -> Result<LineEvent, Problem> {
        var result = LineEvent(text: "", problem: nil)
        var attrs = Attributes()
        for (key, value) in object.pairs {
            switch key {
            case "event":
                guard case .string(let name) = value, !name.isEmpty else { return .failure(Problem(message: "\"event\" must be a non-empty string")) }
                if let reserved = reservedPrefixes.first(where: { name.hasPrefix($0) }) {
                    return .failure(Problem(message: "\"event\": \(name): the \(reserved)* kinds are written by the pipeline itself"))
                }
                result.kind = EventKind(name)
            case "level":
                guard case .string(let name) = value, let level = EventLevel(name: name) else {
                    return .failure(Problem(message: "\"level\" must be one of \(EventLevel.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
                result.level = level
            case "message", "msg":
                guard case .string(let message) = value else { return .failure(Problem(message: "\"\(key)\" must be a string")) }
                result.message = message
            case "attrs":
                guard case .object(let nested) = value else { return .failure(Problem(message: "\"attrs\" must be an object")) }
                for (nestedKey, nestedValue) in nested.pairs { attrs.appendUnchecked(nestedKey, nestedValue) }
            default:
                attrs.appendUnchecked(key, value)
            }
        }
        result.attrs = Attributes(uniqueKeysWithValues: uniqued(attrs.pairs))
        return .success(result)
    }

    /// The last value of a key wins (a key both in `attrs` and at the top level).
    private static func uniqued(_ pairs: [(key: String, value: AttributeValue)]) -> [(key: String, value: AttributeValue)] {
        var seen: [String: Int] = [:]
        var result: [(key: String, value: AttributeValue)] = []
        for pair in pairs {
            if let index = seen[pair.key] {
                result[index].value = pair.value
            } else {
                seen[pair.key] = result.count
                result.append(pair)
            }
        }
        return result
    }
}
