import Hardening

/// The readable one-line format for terminals: `time LEVEL kind message key=value…`.
enum HumanFormatter {
    static func append(_ event: Event, colors: Bool, to bytes: inout [UInt8]) {
        let color: String
        switch event.level {
        case .trace, .debug: color = "\u{1B}[2m"
        case .info: color = "\u{1B}[36m"
        case .notice: color = "\u{1B}[34m"
        case .warning: color = "\u{1B}[33m"
        case .error: color = "\u{1B}[31m"
        case .critical: color = "\u{1B}[1;31m"
        }
        let reset = "\u{1B}[0m"
        var line = event.timestamp.description
        line += " "
        let level = event.level.rawValue.uppercased()
        let padded = level + String(repeating: " ", count: max(0, 8 - level.count))
        line += colors ? color + padded + reset : padded
        line += " "
        line += colors ? "\u{1B}[1m" + event.kind.rawValue + reset : event.kind.rawValue
        line += " "
        line += event.message
        for (key, value) in event.attrs {
            line += colors ? " \u{1B}[2m\(key)=\(reset)" : " \(key)="
            line += render(value)
        }
        // Keep one event on one line even in the readable format.
        for byte in line.utf8 {
            if byte == 0x0A {
                bytes.append(contentsOf: "\\n".utf8)
            } else if byte == 0x0D {
                bytes.append(contentsOf: "\\r".utf8)
            } else {
                bytes.append(byte)
            }
        }
        bytes.append(0x0A)
    }

    static func render(_ value: AttributeValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let int): return String(int)
        // Six decimals are plenty for a person (the JSON keeps every digit).
        case .double(let double):
            guard double.isFinite, abs(double) < 1e12 else { return String(double) }
            return String((double * 1_000_000).rounded() / 1_000_000)
        case .string(let string): return string.contains(" ") ? "\"\(string)\"" : string
        case .array, .object:
            return value.jsonText
        }
    }
}
