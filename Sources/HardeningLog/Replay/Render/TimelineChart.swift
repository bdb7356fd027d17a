import Hardening

/// Inline SVG charts of a ``Timeline``.
package struct TimelineChart {
    let timeline: Timeline
    let indices: [Int64]
    let start: Int64
    let end: Int64
    let width = 1000.0
    let left = 70.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    init(timeline: Timeline) {
        self.timeline = timeline
        indices = timeline.buckets.keys.sorted()
        start = (indices.first ?? 0) * timeline.width
        end = max(start + timeline.width, ((indices.last ?? 0) + 1) * timeline.width)
    }

    var hasData: Bool { !indices.isEmpty }
    var hasProbes: Bool { timeline.buckets.values.contains { !$0.probes.isEmpty } }
    var hasErrors: Bool { timeline.buckets.values.contains { $0.errors > 0 } }
    var hasOperations: Bool { timeline.buckets.values.contains { !$0.operations.isEmpty } }

    private func x(_ microseconds: Int64) -> Double {
        left + (width - left - 10) * Double(microseconds - start) / Double(max(1, end - start))
    }

    /// The time axis: ticks at round steps (1 s … 1 day) labelled in UTC, seconds or
    /// milliseconds shown only when the span needs them.
    private func axis(height: Double) -> String {
        var svg = ""
        for tick in Self.ticks(from: start, to: end) {
            let px = x(tick.microseconds)
            svg += "<line x1=\"\(rounded(px))\" y1=\"\(height - 20)\" x2=\"\(rounded(px))\" y2=\"\(height - 16)\" stroke=\"#999\"/>"
            // A label at the right edge ends there instead of being cut.
            let anchor = px > width - 40 ? "end" : "middle"
            svg += "<text x=\"\(rounded(min(px, width - 2)))\" y=\"\(height - 4)\" font-size=\"11\" text-anchor=\"\(anchor)\" class=\"time\">\(tick.label)</text>"
        }
        return svg + "<text x=\"4\" y=\"\(height - 4)\" font-size=\"11\" fill=\"#777\">UTC</text>"
    }

    /// About five ticks between `start` and `end` (microseconds since the epoch), on a round step.
    package static func ticks(from start: Int64, to end: Int64) -> [(microseconds: Int64, label: String)] {
        let steps: [Int64] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
                              600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000].map { $0 * 1000 }
        let span = max(1, end - start)
        // Beyond a day's step (a damaged timestamp can stretch the axis over decades): whole days.
        let day: Int64 = 86_400_000_000
        let step: Int64 = steps.first { span / $0 <= 6 } ?? ((span / 6 + day - 1) / day * day)
        var tick = (start + step - 1) / step * step
        var ticks: [(Int64, String)] = []
        let spansDays = span > 86_400_000_000
        while tick <= end {
            ticks.append((tick, label(tick, step: step, withDate: spansDays)))
            tick += step
        }
        return ticks
    }

    private static func label(_ microseconds: Int64, step: Int64, withDate: Bool) -> String {
        let text = Timestamp(microsecondsSinceEpoch: microseconds).description  // 2026-12-04T13:00:00.123456Z
        guard let t = text.firstIndex(of: "T") else { return text }
        let clock = text[text.index(after: t)...].prefix(while: { $0 != "Z" })  // 13:00:00.123456
        if step >= 86_400_000_000 { return String(text[..<t]) }  // 2026-12-04
        let date = withDate ? String(text[text.index(text.startIndex, offsetBy: 5)..<t]) + " " : ""  // 12-04
        if step < 1_000_000 { return date + String(clock.prefix(12)) }  // 13:00:00.123
        if step < 60_000_000 { return date + String(clock.prefix(8)) }  // 13:00:00
        return date + String(clock.prefix(5))  // 13:00
    }

    /// Labels for a value axis from 0 to `peak`: four steps.
    private func valueTicks(top: Double, bottom: Double, peak: Double, format: (Double) -> String) -> String {
        var svg = ""
        for step in 0...4 {
            let value = peak * Double(step) / 4
            let py = bottom - (bottom - top) * Double(step) / 4
            svg += "<line x1=\"\(left)\" y1=\"\(rounded(py))\" x2=\"\(width - 10)\" y2=\"\(rounded(py))\" stroke=\"#e4e4e4\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(rounded(py + 4))\" font-size=\"11\" text-anchor=\"end\">\(format(value))</text>"
        }
        return svg
    }

    func latencySVG() -> String {
        let height = 290.0
        let top = 20.0
        let bottom = height - 70
        let operations = Dictionary(grouping: timeline.buckets.values.flatMap { $0.operations }, by: \.key)
            .map { ($0.key, $0.value.reduce(0) { $0 + $1.value.count }) }
            .sorted { ($1.1, $0.0) < ($0.1, $1.0) }
            .prefix(Self.palette.count).map(\.0)
        var peak = 0.0
        for index in indices {
            for (_, point) in timeline.buckets[index]!.operations where point.count > 0 {
                peak = max(peak, Double(point.totalMicroseconds) / Double(point.count) / 1000)
            }
        }
        peak = max(peak, 0.001)
        var svg = "<svg role=\"img\" aria-label=\"latency over time\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(width - 10)\" y2=\"\(bottom)\" stroke=\"#999\"/>"
        svg += valueTicks(top: top, bottom: bottom, peak: peak) { Format.milliseconds($0) }
        svg += "<text x=\"4\" y=\"\(top - 6)\" font-size=\"11\" fill=\"#777\">ms</text>"
        for (number, operation) in operations.enumerated() {
            let color = Self.palette[number]
            var points: [String] = []
            for index in indices {
                guard let point = timeline.buckets[index]!.operations[operation], point.count > 0 else { continue }
                let mean = Double(point.totalMicroseconds) / Double(point.count) / 1000
                let px = x(index * timeline.width + timeline.width / 2)
                let py = bottom - (bottom - top) * mean / peak
                points.append("\(rounded(px)),\(rounded(py))")
            }
            if points.count == 1 {
                let parts = points[0].split(separator: ",")
                svg += "<circle cx=\"\(parts[0])\" cy=\"\(parts[1])\" r=\"3\" fill=\"\(color)\"/>"
            } else {
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
            }
            svg += "<text x=\"\(left + 8 + Double(number % 4) * 230)\" y=\"\(bottom + 18 + Double(number / 4) * 16)\" font-size=\"11\" fill=\"\(color)\">■ \(HTMLPage.escape(operation))</text>"
        }
        return svg + axis(height: height) + "</svg>"
    }

    func breakerSVG() -> String {
        let breakers = timeline.stateChanges.keys.sorted()
        guard !breakers.isEmpty else { return "<p class=\"none\">no breaker changed state</p>" }
        let lane = 22.0
        let height = Double(breakers.count) * lane + 46
        var svg = "<svg role=\"img\" aria-label=\"breaker states\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        for (row, breaker) in breakers.enumerated() {
            let y = Double(row) * lane + 4
            svg += "<text x=\"4\" y=\"\(y + 14)\" font-size=\"11\">\(HTMLPage.escape(breaker))</text>"
            let changes = timeline.stateChanges[breaker]!.sorted { ($0.timestamp, $0.run) < ($1.timestamp, $1.run) }
            var state = "closed"
            var from = start
            for change in changes + [Timeline.StateChange(timestamp: Timestamp(microsecondsSinceEpoch: end), run: "", state: "")] {
                let to = min(max(change.timestamp.microsecondsSinceEpoch, start), end)
                if to > from {
                    svg += "<rect x=\"\(rounded(x(from)))\" y=\"\(y)\" width=\"\(rounded(max(1, x(to) - x(from))))\" height=\"16\" fill=\"\(Self.color(of: state))\"><title>\(state)</title></rect>"
                }
                state = change.state
                from = to
            }
        }
        svg += legend(y: Double(breakers.count) * lane + 6, [("closed", "#4caf50"), ("open", "#e53935"), ("half_open", "#fb8c00"), ("isolated", "#8e24aa"), ("disabled", "#9e9e9e")])
        return svg + axis(height: height) + "</svg>"
    }

    func healthSVG() -> String {
        let checks = Set(timeline.buckets.values.flatMap { $0.probes.keys }).sorted()
        guard !checks.isEmpty else { return "<p class=\"none\">no health probes</p>" }
        let lane = 22.0
        let height = Double(checks.count) * lane + 46
        var svg = "<svg role=\"img\" aria-label=\"health\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        for (row, check) in checks.enumerated() {
            let y = Double(row) * lane + 4
            svg += "<text x=\"4\" y=\"\(y + 14)\" font-size=\"11\">\(HTMLPage.escape(check))</text>"
            for index in indices {
                guard let point = timeline.buckets[index]!.probes[check] else { continue }
                let color = Self.probeColor(point)
                let from = x(index * timeline.width)
                svg += "<rect x=\"\(rounded(from))\" y=\"\(y)\" width=\"\(rounded(max(1, x((index + 1) * timeline.width) - from)))\" height=\"16\" fill=\"\(color)\"/>"
            }
        }
        svg += legend(y: Double(checks.count) * lane + 6, [("healthy", "#4caf50"), ("degraded", "#fb8c00"), ("failing", "#e53935"), ("mixed", "#8e24aa")])
        return svg + axis(height: height) + "</svg>"
    }

    /// A bucket of probes all of one status in its colour; of several, "mixed".
    static func probeColor(_ point: Timeline.ProbePoint) -> String {
        switch (point.healthy > 0, point.degraded > 0, point.failing > 0) {
        case (_, false, false): "#4caf50"
        case (false, true, false): "#fb8c00"
        case (false, false, true): "#e53935"
        default: "#8e24aa"
        }
    }

    func errorSVG() -> String {
        let height = 140.0
        let bottom = height - 24
        // Each error.recorded event once: the failed timings of the nested operations that one
        // error passed through are the operations' errors (the latency chart's), not more errors.
        let counts = indices.map { timeline.buckets[$0]!.errors }
        let peak = max(1, counts.max() ?? 1)
        var svg = "<svg role=\"img\" aria-label=\"errors\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        let scale = Double(peak) >= 4 ? Double(peak) : 4
        svg += valueTicks(top: 10, bottom: bottom, peak: scale) { value in
            value == value.rounded() ? String(Int64(value)) : ""
        }
        for (index, count) in zip(indices, counts) where count > 0 {
            let from = x(index * timeline.width)
            let barHeight = (bottom - 10) * Double(count) / scale
            svg += "<rect x=\"\(rounded(from))\" y=\"\(rounded(bottom - barHeight))\" width=\"\(rounded(max(1, x((index + 1) * timeline.width) - from - 1)))\" height=\"\(rounded(barHeight))\" fill=\"#e53935\"><title>\(count)</title></rect>"
        }
        return svg + axis(height: height) + "</svg>"
    }

    /// Events per bucket, as bars: the event rate.
    func eventsSVG() -> String {
        let height = 140.0
        let bottom = height - 24
        let counts = indices.map { timeline.buckets[$0]!.events }
        let peak = Double(max(4, counts.max() ?? 4))
        var svg = "<svg role=\"img\" aria-label=\"events\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += valueTicks(top: 10, bottom: bottom, peak: peak) { Format.count(Int64($0.rounded())) }
        for (index, count) in zip(indices, counts) where count > 0 {
            let from = x(index * timeline.width)
            let barHeight = (bottom - 10) * Double(count) / peak
            svg += "<rect x=\"\(rounded(from))\" y=\"\(rounded(bottom - barHeight))\" width=\"\(rounded(max(1, x((index + 1) * timeline.width) - from - 1)))\" height=\"\(rounded(barHeight))\" fill=\"#1f77b4\"><title>\(count)</title></rect>"
        }
        return svg + axis(height: height) + "</svg>"
    }

    private func legend(y: Double, _ items: [(String, String)]) -> String {
        items.enumerated().map { number, item in
            "<text x=\"\(left + Double(number) * 110)\" y=\"\(y + 12)\" font-size=\"11\" fill=\"\(item.1)\">■ \(item.0)</text>"
        }.joined()
    }

    static func color(of state: String) -> String {
        switch state {
        case "closed": return "#4caf50"
        case "open": return "#e53935"
        case "half_open": return "#fb8c00"
        case "isolated": return "#8e24aa"
        default: return "#9e9e9e"
        }
    }

    private func rounded(_ value: Double) -> String { String((value * 10).rounded() / 10) }
}
