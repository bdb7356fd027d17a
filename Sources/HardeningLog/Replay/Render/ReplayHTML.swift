import Hardening

extension Replay.Report {
    /// One self-contained HTML page (no script, no network): who and when, completeness, the
    /// post-mortem (first failure, open and unhealthy periods, timeline), then the
    /// ``ReportSections`` that the agent's live `/dashboard` shows too.
    public var html: String {
        let summary = self.summary
        let origins = ReportSections.origins(summary)
        var page = HTMLPage(title: "swift-hardening replay" + (origins.services.isEmpty ? "" : ": " + origins.services))
        page.heading("Replay" + (origins.services.isEmpty ? "" : ": " + origins.services))
        if !origins.runs.isEmpty { page.list(origins.runs) }
        page.paragraph("\(Format.count(Int64(input.files))) file(s), \(Format.count(input.eventsRead)) events read, "
                       + "\(Format.count(input.eventsKept)) kept. " + ReportSections.lossText(summary) + "; input issues: \(Format.count(input.issueCount)).",
                       cssClass: ReportSections.hasLoss(summary) || input.issueCount > 0 ? "warn" : "ok")
        if !input.issues.isEmpty {
            page.list(input.issues.prefix(20).map(\.description))
        }
        postMortem.render(into: &page)
        if !objectives.isEmpty { page.section("Objectives", ObjectiveResult.headers, objectives.map(\.cells)) }
        if let comparison { page.section(comparison.title, Comparison.headers, comparison.rows) }
        ReportSections(summary: summary, timeline: timeline).render(into: &page)
        return page.finish()
    }
}

/// A minimal HTML writer: every text is escaped.
package struct HTMLPage {
    /// The body written so far (a fragment, for a live page's updates).
    package private(set) var body = ""
    private let title: String

    package init(title: String) { self.title = title }

    package static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    package mutating func heading(_ text: String, level: Int = 1) { body += "<h\(level)>\(Self.escape(text))</h\(level)>\n" }

    package mutating func paragraph(_ text: String, cssClass: String = "") {
        body += "<p class=\"\(cssClass)\">\(Self.escape(text))</p>\n"
    }

    package mutating func list(_ items: [String]) {
        body += "<ul>" + items.map { "<li><code>\(Self.escape($0))</code></li>" }.joined() + "</ul>\n"
    }

    package mutating func table(_ headers: [String], _ rows: [[String]]) {
        guard !rows.isEmpty else {
            body += "<p class=\"none\">none</p>\n"
            return
        }
        body += "<table><thead><tr>" + headers.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            body += "<tr>" + row.map { "<td\(TextTable.isNumeric($0) ? " class=\"n\"" : "")>\(Self.escape($0))</td>" }.joined() + "</tr>\n"
        }
        body += "</tbody></table>\n"
    }

    package mutating func raw(_ html: String) { body += html + "\n" }

    /// A heading and its table, left out entirely when there are no rows.
    package mutating func section(_ heading: String, _ headers: [String], _ rows: [[String]]) {
        guard !rows.isEmpty else { return }
        self.heading(heading, level: 2)
        table(headers, rows)
    }

    /// The whole page; `style` is added to the page's CSS and `script` (both already safe to
    /// place in their elements) ends the body. A live page (one with a script) names an empty
    /// icon, so that the browser asks the server for nothing but the page and its stream.
    package func finish(style: String = "", script: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>\(script.isEmpty ? "" : "<link rel=\"icon\" href=\"data:,\">")
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
        table{border-collapse:collapse;margin:8px 0 16px}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}
        td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
        p.warn{color:#a15c00}p.ok{color:#1b6e20}p.none{color:#888}svg{background:#fafafa;border:1px solid #e4e4e4;margin:4px 0 12px}
        code{font-size:12px}\(style.isEmpty ? "" : "\n" + style)
        </style></head><body>
        \(body)\(script.isEmpty ? "" : "<script>\n" + script + "\n</script>\n")</body></html>

        """
    }
}
