/// Prometheus text exposition (format 0.0.4), written by hand: each family once, with `# HELP`
/// and `# TYPE` from its ``MetricFamily``, every sample with exactly the family's labels, label
/// values escaped.
public struct PrometheusExposition: Sendable {
    /// One sample: label values in the family's label order, and the value.
    public typealias Sample = (labelValues: [String], value: Double)

    /// The text so far.
    public private(set) var text = ""

    /// An empty exposition.
    public init() {}

    /// Writes a counter or gauge family. A family without samples yet (a labelled one nothing has
    /// touched) is declared by its `# HELP` and `# TYPE` alone, as Prometheus's own clients do,
    /// so that a dashboard's query names a series the first scrape already shows.
    public mutating func family(_ family: MetricFamily, _ samples: [Sample]) {
        precondition(family.type != .histogram, "histograms are written with histogram(_:_:)")
        header(family)
        for sample in samples {
            precondition(sample.labelValues.count == family.labels.count, "\(family.name): a sample without its labels")
            line(family.name, Array(zip(family.labels, sample.labelValues)), sample.value)
        }
    }

    /// Writes a histogram family in seconds from durations: cumulative `_bucket` samples at
    /// ``MetricCatalogue/durationBuckets`` and `+Inf`, then `_sum` and `_count`.
    public mutating func histogram(_ family: MetricFamily, _ items: [(labelValues: [String], latency: LatencyStats)]) {
        precondition(family.type == .histogram)
        header(family)
        for (values, latency) in items {
            precondition(values.count == family.labels.count, "\(family.name): a sample without its labels")
            let labels = Array(zip(family.labels, values))
            for bound in MetricCatalogue.durationBuckets {
                let count = latency.count(atOrBelowMicroseconds: bound.wholeMicroseconds)
                line(family.name + "_bucket", labels + [("le", Self.number(bound.seconds))], Double(count))
            }
            line(family.name + "_bucket", labels + [("le", "+Inf")], Double(latency.count))
            line(family.name + "_sum", labels, Double(latency.totalMicroseconds) / 1e6)
            line(family.name + "_count", labels, Double(latency.count))
        }
    }

    /// Appends text written elsewhere (another exposition's families).
    public mutating func append(_ other: String) { text += other }

    private mutating func header(_ family: MetricFamily) {
        text += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n# TYPE \(family.name) \(family.type.rawValue)\n"
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.number(value) + "\n"
    }

    /// A label value escaped: backslash, double quote and newline.
    public static func escape(_ value: String) -> String { escape(value, quotes: true) }

    /// Help text escaped: backslash and newline.
    static func escapeHelp(_ help: String) -> String { escape(help, quotes: false) }

    private static func escape(_ value: String, quotes: Bool) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || (quotes && $0 == UInt8(ascii: "\"")) })
        else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"" where quotes: escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A sample value: whole numbers without a fraction, `NaN`, `+Inf`, `-Inf`.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

extension Duration {
    /// Whole microseconds (truncated).
    fileprivate var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
