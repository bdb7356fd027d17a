import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// `hardening replay` as users and scripts call it: a real child process on real files.
@Suite struct ReplayProcessTests {
    private let hardening = ChildProcess.hardeningExecutable

    /// The JSON text of `data` with the `input` key removed and keys in the writer's order.
    private func withoutInput(_ data: Data) throws -> String {
        var text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let marker = #","input":{"#
        let range = try #require(text.range(of: marker, options: .backwards))
        text = String(text[..<range.lowerBound]) + "}"
        return text
    }

    @Test(arguments: ["plain", "gzip-stream"])
    func replayOfTheLogsEqualsTheLiveSummaryOfTheProcess(fileFormat: String) async throws {
        let output = TestOutput.directory(named: "replay-cli-\(fileFormat)")
        defer { output.finish() }
        let live = output.path + "/../live-\(fileFormat)-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: live) }
        // Small files (many rotations), a small bus dropping on overflow: the drops are counted
        // in both summaries.
        let generated = try await ChildProcess.runDetached([
            hardening, "generate", "--events", "10000", "--log-dir", output.path, "--file-format", fileFormat,
            "--max-file-bytes", "100000", "--min-rotation-interval", "0", "--compression-delay", "0",
            "--overflow", "drop-newest", "--capacity", "2048", "--summary-json", live,
        ])
        #expect(generated.status == 0, "\(generated.stderr)")
        let replayed = try await ChildProcess.runDetached([hardening, "replay", "--format", "json", output.path])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        let liveText = String(decoding: try #require(FileManager.default.contents(atPath: live)), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try withoutInput(replayed.stdout) == liveText)
        #expect(String(decoding: replayed.stdout, as: UTF8.self).contains(#""input":{"files":"#))
    }

    @Test func zcatOfTheCompressedSegmentsSaysTheirRunGoesOnInAFileNotNamed() async throws {
        let output = TestOutput.directory(named: "replay-cli-zcat")
        defer { output.finish() }
        let generated = try await ChildProcess.runDetached([hardening, "generate", "--events", "20000", "--log-dir", output.path,
                                                            "--max-file-bytes", "300000", "--min-rotation-interval", "0",
                                                            "--compression-delay", "0"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        let compressed = names.filter { $0.hasSuffix(".gz") }.map { output.path + "/" + $0 }
        #expect(compressed.count > 2 && names.contains { $0.hasPrefix("events-") && $0.hasSuffix(".jsonl") }, "\(names)")
        let zcat = try ChildProcess.run(["zcat"] + compressed)
        let piped = try await ChildProcess.runDetached([hardening, "replay", "--format", "json", "-"], input: zcat.stdout)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stderr.contains("has no closing record in the input"), "\(piped.stderr)")
        #expect(String(decoding: piped.stdout, as: UTF8.self).contains(#""runs_without_closing_record":["#))
        let named = try await ChildProcess.runDetached([hardening, "replay", "--format", "text"] + compressed)
        #expect(String(decoding: named.stdout, as: UTF8.self).contains("its closing record (file.closed) is not in the input"))
        for whole in [[output.path], compressed + [output.path + "/events.jsonl"]] {
            let replayed = try await ChildProcess.runDetached([hardening, "replay", "--format", "json"] + whole)
            #expect(replayed.status == 0 && !replayed.stderr.contains("closing record"), "\(replayed.stderr)")
            #expect(!String(decoding: replayed.stdout, as: UTF8.self).contains("runs_without_closing_record"))
        }
    }

    @Test func eventsOutputReplaysToTheSameSummaryAndFiltersApply() async throws {
        let output = TestOutput.directory(named: "replay-cli-events")
        defer { output.finish() }
        let generated = try await ChildProcess.runDetached([hardening, "generate", "--events", "5000", "--log-dir", output.path, "--seed", "3"])
        #expect(generated.status == 0)
        let all = try await ChildProcess.runDetached([hardening, "replay", "--format", "json", output.path])
        let events = try await ChildProcess.runDetached([hardening, "replay-events", "--format", "events", output.path])
        #expect(events.status == 0)
        let again = try await ChildProcess.runDetached([hardening, "replay", "--format", "json", "-"], input: events.stdout)
        #expect(try withoutInput(again.stdout) == withoutInput(all.stdout), "events out, events in: the same summary")

        let breakers = try await ChildProcess.runDetached([hardening, "replay", "--format", "events", "--event", "breaker.*", "--operation", "notion", output.path])
        let lines = String(decoding: breakers.stdout, as: UTF8.self).split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.contains(#""event":"breaker."#) && line.contains(#""breaker":"notion""#))
        }
        let warnings = try await ChildProcess.runDetached([hardening, "replay", "--format", "events", "--level", "error", output.path])
        for line in String(decoding: warnings.stdout, as: UTF8.self).split(separator: "\n") {
            #expect(line.contains(#""level":"error""#) || line.contains(#""level":"critical""#))
        }
        let future = try await ChildProcess.runDetached([hardening, "replay", "--format", "json", "--since", "2999-01-01T00:00:00Z", output.path])
        #expect(String(decoding: future.stdout, as: UTF8.self).contains(#""events_kept":0"#))
        let recent = try await ChildProcess.runDetached([hardening, "replay", "--format", "json", "--since", "2h", output.path])
        #expect(try withoutInput(recent.stdout) == withoutInput(all.stdout), "everything is from the last two hours")
    }

    /// The command takes the byte scanner's fast path for every format but `events`: on mixed
    /// and damaged input (garbage, torn and odd-but-valid lines, a copied segment, gzip), with
    /// and without a filter, its JSON is byte for byte what the full decoder gives.
    @Test func theFastPathGivesTheDecodersReportByteForByte() async throws {
        let directory = TemporaryDirectory(prefix: "replay-fast-path")
        defer { directory.remove() }
        let logs = directory.path + "/logs"
        let generated = try await ChildProcess.runDetached([hardening, "generate", "--events", "20000", "--log-dir", logs, "--seed", "4",
                                                            "--max-file-bytes", "1000000", "--min-rotation-interval", "0",
                                                            "--compression-delay", "0"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let segments = try FileManager.default.contentsOfDirectory(atPath: logs).filter { $0.hasPrefix("events-") }.sorted()
        #expect(segments.count >= 3)
        // A copy of a compressed segment, and a plain file of odd, damaged and valid lines.
        let copied = try #require(segments.first { $0.hasSuffix(".gz") })
        try FileManager.default.copyItem(atPath: logs + "/" + copied, toPath: logs + "/copy-of-" + copied)
        let head = #"{"timestamp":"2026-11-29T00:00:00.000000Z","level":"info","event":"timing.recorded","message":"m","service":"s","host":"h","run":"00000000000000f1","seq":"#
        let odd = [
            head + #"1,"attrs":{"operation":"op","duration_ms":12.5,"outcome":"success","slow":false}}"#,
            head + #"2,"attrs":{"operation":"o\u0070","duration_ms":3,"outcome":"success"}}"#,
            "garbage that is not JSON",
            #"{"event":"timing.recorded","timestamp":"2026-11-29T00:00:01Z","level":"info","message":"","seq":3,"run":"00000000000000f1","attrs":{"operation":"op","duration_ms":1,"outcome":"error"}}"#,
            head + #"5,"attrs":{"operation":"op","duration_ms":-4,"outcome":"success"}}"#,
            head + #"6,"attrs":{"operation":"op","duration_"#,
        ]
        let oddFile = directory.path + "/odd.jsonl"
        try (odd.joined(separator: "\n") + "\n").write(toFile: oddFile, atomically: true, encoding: .utf8)
        for filter in [[], ["--since", "2026-11-29T00:00:00.5Z"], ["--level", "warning"], ["--event", "breaker.*", "--host", "h"]] {
            let cli = try await ChildProcess.runDetached([hardening, "replay", logs, oddFile, "--format", "json"] + filter)
            var replayFilter = ReplayFilter()
            if filter.first == "--since" { replayFilter.since = Timestamp(rfc3339: filter[1]) }
            if filter.first == "--level" { replayFilter.minimumLevel = .warning }
            if filter.first == "--event" {
                replayFilter.kinds = ["breaker.*"]
                replayFilter.hosts = ["h"]
            }
            var decoding = Replay(filter: replayFilter)
            decoding.scansBytes = false
            decoding.buildsTimeline = false
            let decoded = try decoding.run(ReplayInputs([logs, oddFile]))
            // A filter that keeps nothing is said, with the report still written.
            #expect(cli.status == (decoded.input.eventsKept == 0 ? 1 : 0), "\(filter): \(cli.stderr)")
            #expect(String(decoding: cli.stdout, as: UTF8.self) == decoded.json.jsonText + "\n", "filter \(filter)")
            #expect(decoded.input.duplicateEvents > 0 && decoded.input.issueCount >= 2, "\(decoded.input.issuesByKind)")
        }
    }

    @Test func damagedInputIsReportedWithFileAndLineAndStrictMakesItFatal() async throws {
        let directory = TemporaryDirectory(prefix: "replay-damaged")
        defer { directory.remove() }
        let path = directory.path + "/events.jsonl"
        let good = #"{"timestamp":"2026-11-29T00:00:00.000000Z","level":"info","event":"timing.recorded","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":1,"attrs":{"operation":"op","duration_ms":5.0,"outcome":"success","slow":false}}"#
        let text = good + "\nnot json at all\n" + good.replacingOccurrences(of: #""seq":1"#, with: #""seq":3"#) + "\n{\"torn"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let lenient = try await ChildProcess.runDetached([hardening, "replay", path])
        #expect(lenient.status == 0)
        let report = String(decoding: lenient.stdout, as: UTF8.self)
        #expect(report.contains("\(path):2: bad_line"))
        #expect(report.contains("\(path):4: torn_line"))
        #expect(report.contains("events missing (holes in seq)         1"))
        let strict = try await ChildProcess.runDetached([hardening, "replay", "--strict", path])
        #expect(strict.status == 2)
        #expect(strict.stderr.contains("\(path):2: bad_line"))
        let missing = try await ChildProcess.runDetached([hardening, "replay", directory.path + "/nothing-here.jsonl"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file or directory"))
        let shown = try await ChildProcess.runDetached([hardening, "replay", "--progress", path])
        #expect(shown.stderr.contains("replaying file 1/1"), "--progress forces the progress line")
        let quiet = try await ChildProcess.runDetached([hardening, "replay", path])
        #expect(!quiet.stderr.contains("replaying"), "no progress line when standard error is not a terminal")
        let usage = try await ChildProcess.runDetached([hardening, "replay"])
        #expect(usage.status == 64)
        let help = try await ChildProcess.runDetached([hardening, "replay", "--help"])
        for flag in ["--format", "--since", "--until", "--service", "--host", "--event", "--operation", "--level", "--strict", "Exit codes"] {
            #expect(String(decoding: help.stdout, as: UTF8.self).contains(flag), "help documents \(flag)")
        }
    }

    @Test func prometheusAndHTMLOutputsAreWritten() async throws {
        let output = TestOutput.directory(named: "replay-cli-formats")
        defer { output.finish() }
        _ = try await ChildProcess.runDetached([hardening, "generate", "--events", "3000", "--log-dir", output.path])
        let metrics = try await ChildProcess.runDetached([hardening, "replay", "--format", "prometheus", output.path])
        let text = String(decoding: metrics.stdout, as: UTF8.self)
        #expect(text.contains("# TYPE hardening_operation_duration_seconds histogram"))
        #expect(text.contains(#"hardening_breaker_transitions_total{breaker="notion",transition="closed->open"}"#))
        let page = TemporaryDirectory(prefix: "replay-html")
        defer { page.remove() }
        let html = try await ChildProcess.runDetached([hardening, "replay", "--format", "html", "--output", page.path + "/report.html", output.path])
        #expect(html.status == 0)
        let document = try String(contentsOfFile: page.path + "/report.html", encoding: .utf8)
        #expect(document.hasPrefix("<!DOCTYPE html>") && document.contains("<svg") && !document.contains("<script"))
    }

    @Test func theHTMLReportOpensInHeadlessChromiumAndShowsItsCharts() async throws {
        let output = TestOutput.directory(named: "replay-cli-chromium")
        defer { output.finish() }
        // The logs are only input here (the schema check has plenty of generate output already).
        let scratch = TemporaryDirectory(prefix: "replay-chromium-logs")
        defer { scratch.remove() }
        let logs = scratch.path + "/logs"
        _ = try await ChildProcess.runDetached([hardening, "generate", "--events", "10000", "--rate", "10000", "--log-dir", logs])
        let page = output.path + "/report.html"
        let written = try await ChildProcess.runDetached([hardening, "replay", "--format", "html", "-o", page, logs])
        #expect(written.status == 0, "\(written.stderr)")
        // `timeout` bounds the browser; it exits by itself when the page is rendered.
        let browser = ["timeout", "120", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                       "--window-size=1200,1800"]
        let dom = try await ChildProcess.runDetached(browser + ["--dump-dom", "file://" + page])
        #expect(dom.status == 0, "chromium could not open the page: \(dom.stderr.suffix(500))")
        let rendered = String(decoding: dom.stdout, as: UTF8.self)
        #expect(rendered.components(separatedBy: "<svg").count - 1 == 5, "five charts")
        for title in ["Latency over time", "Breaker states", "Health", "Errors per bucket", "Events per bucket"] {
            #expect(rendered.contains(title))
        }
        #expect(rendered.contains("<polyline"), "latency lines were drawn")
        let screenshot = output.path + "/report.png"
        let shot = try await ChildProcess.runDetached(browser + ["--screenshot=" + screenshot, "file://" + page])
        #expect(shot.status == 0)
        let png = try #require(FileManager.default.contents(atPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "a real picture, not a blank page")
    }
}
