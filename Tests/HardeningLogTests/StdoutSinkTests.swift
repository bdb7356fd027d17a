import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct StdoutSinkTests {
    private func pipe() -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        precondition(Glibc.pipe(&descriptors) == 0)
        return (descriptors[0], descriptors[1])
    }

    private func readAll(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func writesOneJSONObjectPerLine() async throws {
        let (readEnd, writeEnd) = pipe()
        let sink = StdoutSink(descriptor: writeEnd, format: .json)
        let bus = EventBus(configuration: .init(service: "s", run: "00000000000000ee"), sinks: [sink])
        bus.emit(TimingRecorded(operation: "op", durationMs: 1.5, outcome: "success"))
        bus.emit(.info, "custom.kind", message: "two\nlines")
        await bus.shutdown()
        close(writeEnd)
        let lines = readAll(readEnd).split(separator: "\n")
        close(readEnd)
        #expect(lines.count == 2)
        #expect(try JSONLineDecoder().decode(String(lines[1])).message == "two\nlines")
    }

    @Test func readableFormatIsColouredOnRequestAndStaysOneLine() async throws {
        let (readEnd, writeEnd) = pipe()
        let sink = StdoutSink(descriptor: writeEnd, format: .human(colors: true))
        let bus = EventBus(configuration: .init(service: "s"), sinks: [sink])
        bus.emit(BreakerStateChanged(breaker: "notion", from: "closed", to: "open", reason: "failure_threshold", failures: 5, successes: 0))
        bus.emit(.error, "custom.kind", message: "bad\nthing")
        await bus.shutdown()
        close(writeEnd)
        let text = readAll(readEnd)
        close(readEnd)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("\u{1B}[33mWARNING"))
        #expect(lines[0].contains("breaker.state_changed"))
        #expect(lines[0].contains("breaker notion closed -> open"))
        #expect(lines[1].contains("\u{1B}[31mERROR"))
        #expect(lines[1].contains("bad\\nthing"))
        // Automatic picks JSON when the descriptor is not a terminal.
        let (otherRead, otherWrite) = pipe()
        let automatic = StdoutSink(descriptor: otherWrite, format: .automatic(colors: true))
        automatic.write([Event(timestamp: .init(microsecondsSinceEpoch: 0), level: .info, kind: "k", message: "m", run: "r", seq: 1)])
        close(otherWrite)
        #expect(readAll(otherRead).hasPrefix("{\"timestamp\""))
        close(otherRead)
    }

    @Test func aClosedPipeIsReportedAndNeverFatal() async throws {
        let (readEnd, writeEnd) = pipe()
        close(readEnd)  // the reader went away: writes fail with EPIPE (SIGPIPE is ignored here)
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let sink = StdoutSink(descriptor: writeEnd, format: .json)
        let memory = InMemorySink()
        let bus = EventBus(configuration: .init(service: "s"), sinks: [sink, memory])
        for _ in 0..<5 { bus.emit(.info, "k", message: "m") }
        await bus.shutdown()
        close(writeEnd)
        let failed = try #require(try memory.events.first { $0.kind == .sinkFailed }?.payload(as: SinkFailed.self))
        #expect(failed.errno == Int64(EPIPE))
        #expect(sink.lostEvents >= 5)
        #expect(memory.events.filter { $0.kind == .sinkFailed }.count == 1)
    }
}
