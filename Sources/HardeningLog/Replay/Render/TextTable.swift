#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain-text table with aligned columns: text left, numbers right.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: [String]) { rows.append(cells) }

    func render(indent: String = "  ") -> String {
        guard !rows.isEmpty else { return "" }
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { index, cell -> String in
                let padding = String(repeating: " ", count: max(0, widths[min(index, widths.count - 1)] - cell.count))
                return index == 0 || !TextTable.isNumeric(cell) ? cell + padding : padding + cell
            }
            var text = indent + padded.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    static func isNumeric(_ cell: String) -> Bool {
        guard let first = cell.first else { return false }
        return first.isNumber || (first == "-" && cell.count > 1)
    }
}

/// Numbers as a person reads them.
enum Format {
    /// `1234567` as `1,234,567`.
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// Milliseconds with three significant figures at most (`0.125`, `12.5`, `1,250`).
    static func milliseconds(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        if value >= 1000 { return count(Int64(value.rounded())) }
        if value >= 100 { return String(Int64(value.rounded())) }
        let scale = value >= 10 ? 10.0 : value >= 1 ? 100.0 : 1000.0
        var text = String((value * scale).rounded() / scale)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// A duration in milliseconds as `850 ms`, `12.5 s`, `3.2 min`, `1.5 h`.
    static func span(milliseconds: Double) -> String {
        if milliseconds < 1000 { return Format.milliseconds(milliseconds) + " ms" }
        let seconds = milliseconds / 1000
        if seconds < 120 { return Format.milliseconds(seconds) + " s" }
        if seconds < 7200 { return Format.milliseconds(seconds / 60) + " min" }
        if seconds < 172_800 { return Format.milliseconds(seconds / 3600) + " h" }
        return Format.milliseconds(seconds / 86_400) + " d"
    }

    /// A small share with its first significant digits: `0.00076%`, `3.2%`.
    static func smallPercent(_ ratio: Double) -> String {
        guard ratio.isFinite else { return "-" }
        guard ratio != 0, abs(ratio) < 0.001 else { return percent(ratio) }
        let percent = ratio * 100
        let scale = pow(10, 1 - log10(abs(percent)).rounded(.down))
        return String((percent * scale).rounded() / scale) + "%"
    }

    /// A value with at most three decimals (`12`, `2.5`, `0.125`).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let rounded = (value * 1000).rounded() / 1000
        var text = rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
        if text == "-0" { text = "0" }
        return text
    }

    /// A ratio as a percentage with one decimal.
    static func percent(_ ratio: Double) -> String {
        guard ratio.isFinite else { return "-" }
        return String((ratio * 1000).rounded() / 10) + "%"
    }

    /// `["a": 2, "b": 1]` as `a 2, b 1`.
    static func tally(_ tally: [String: Int64]) -> String {
        tally.isEmpty ? "-" : tally.sorted { $0.key < $1.key }.map { "\($0.key) \(count($0.value))" }.joined(separator: ", ")
    }
}
