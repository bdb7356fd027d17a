import ArgumentParser
import Hardening
import HardeningLog

#if canImport(Glibc)
import Glibc
#endif

/// Replay of one gzip log to the JSON summary, as `hardening replay --format json` does it.
struct ReplayBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Replay a log file to the JSON summary; report events/s and peak RSS.")

    @Option var input: String

    @Flag(name: .customLong("no-post-mortem"), help: "Leave out the post-mortem sections (to measure what they cost).")
    var withoutPostMortem = false

    func run() throws {
        let start = monotonicSeconds()
        var replay = Replay()
        replay.buildsTimeline = false  // as `hardening replay --format json` runs it
        replay.buildsPostMortem = !withoutPostMortem
        let report = try replay.run(ReplayInputs([input]))
        let folded = monotonicSeconds() - start
        let json = report.json.jsonText
        let seconds = monotonicSeconds() - start
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("replay events=\(report.input.eventsRead) seconds=\(seconds) fold_seconds=\(folded) events_per_second=\(Double(report.input.eventsRead) / seconds) json_bytes=\(json.utf8.count) max_rss_mib=\(Double(usage.ru_maxrss) / 1024)")
    }
}

/// Inflate alone: the same file inflated as replay inflates it (libdeflate for whole members where
/// it is installed) or through zlib alone, counting newlines (the physical limit of replay).
struct InflateBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inflate", abstract: "Inflate a gzip file and count its lines; report lines/s.")

    @Option var input: String

    @Flag(name: .customLong("no-post-mortem"), help: "Leave out the post-mortem sections (to measure what they cost).")
    var withoutPostMortem = false
    @Flag(help: "Stream every member through zlib (without it: as replay reads, libdeflate for whole members where it is installed).")
    var zlib = false

    func run() throws {
        let descriptor = open(input, O_RDONLY)
        guard descriptor >= 0 else { throw ValidationError("cannot open \(input)") }
        defer { close(descriptor) }
        let decompressor = try GzipDecompressor(wholeMembers: !zlib)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var lines = 0
        var bytes = 0
        func countLines(_ out: UnsafeRawBufferPointer) {
            bytes += out.count
            var offset = 0
            while offset < out.count, let found = memchr(out.baseAddress! + offset, 0x0A, out.count - offset) {
                lines += 1
                offset = out.baseAddress!.distance(to: UnsafeRawPointer(found)) + 1
            }
        }
        let start = monotonicSeconds()
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            chunk.withUnsafeBytes { raw in decompressor.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count]), output: countLines) }
        }
        decompressor.finish(output: countLines)
        let seconds = monotonicSeconds() - start
        print("inflate lines=\(lines) bytes=\(bytes) seconds=\(seconds) events_per_second=\(Double(lines) / seconds) mb_per_second=\(Double(bytes) / seconds / 1e6)")
    }
}
