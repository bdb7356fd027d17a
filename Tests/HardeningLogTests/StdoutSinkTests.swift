import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
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

    /// By default no stdout line is longer than 16 KiB, newline included (container runtimes split
    /// longer ones): a large event is shortened, marked truncated, and still one JSON object.
    @Test func noLineIsLongerThanTheContainerRuntimesSplitByDefault() async throws {
        let (readEnd, writeEnd) = pipe()
        let sink = StdoutSink(descriptor: writeEnd, format: .json)
        let bus = EventBus(configuration: .init(service: "s", run: "00000000000000ee", volume: .full), sinks: [sink])
        for size in [16_000, 17_000, 100_000] {
            bus.emit(.info, "big.event", message: "m", attrs: ["blob": .string(String(repeating: "y", count: size))])
        }
        await bus.shutdown()
        close(writeEnd)
        let lines = readAll(readEnd).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        close(readEnd)
        #expect(StdoutSink.defaultMaxLineBytes == 16_384)
        #expect(lines.count == 3)
        for line in lines {
            #expect(line.utf8.count + 1 <= 16_384, "a line of \(line.utf8.count + 1) bytes")
            let event = try JSONLineDecoder().decode(String(line))
            #expect(event.kind == "big.event")
        }
        #expect(try !JSONLineDecoder().decode(String(lines[0])).truncated, "16,000 bytes of value fit whole")
        #expect(try JSONLineDecoder().decode(String(lines[2])).truncated)
    }

    @Test func writesOneJSONObjectPerLine() async throws {
        let (readEnd, writeEnd) = pipe()
        let sink = StdoutSink(descriptor: writeEnd, format: .json)
        let bus = EventBus(configuration: .init(service: "s", run: "00000000000000ee", volume: .full), sinks: [sink])
        bus.emit(TimingRecorded(operation: "op", durationMs: 1.5, outcome: "success"))
        bus.emit(.info, "custom.kind", message: "two\nlines")
        await bus.shutdown()
        close(writeEnd)
        let lines = readAll(readEnd).split(separator: "\n")
        close(readEnd)
        #expect(lines.count == 2)
        #expect(try JSONLineDecoder().decode(String(lines[1])).message == "two\nlines")
    }

    /// A terminal: the controlling side of a pseudo-terminal pair, and the side the sink writes.
    private func terminal() -> (read: Int32, write: Int32) {
        // Linux's /dev/ptmx, unlocked and numbered by ioctl (TIOCSPTLCK, TIOCGPTN: function-like
        // macros Swift does not import, hence their values).
        let controller = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        precondition(controller >= 0)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        precondition(ioctl(controller, 0x4004_5431, &unlock) == 0 && ioctl(controller, 0x8004_5430, &number) == 0)
        let device = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        precondition(device >= 0)
        return (controller, device)
    }

    /// What the sink wrote to a terminal, read from its other side.
    private func readTerminal(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while Glibc.poll(&poll, 1, 200) == 1 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Colours only on a terminal, and there only without `NO_COLOR` and with a `TERM` other than
    /// `dumb`; never in a pipe, asked or not.
    @Test func coloursOnlyOnATerminalThatWantsThem() {
        let event = Event(timestamp: .init(microsecondsSinceEpoch: 0), level: .error, kind: "k", message: "m", run: "r", seq: 1)
        let cases: [(environment: [String: String], coloured: Bool)] = [
            (["TERM": "xterm-256color"], true), (["TERM": "xterm", "NO_COLOR": "1"], false), (["TERM": "dumb"], false),
            (["TERM": "xterm", "NO_COLOR": ""], true),
        ]
        for (environment, coloured) in cases {
            let (controller, device) = terminal()
            let sink = StdoutSink(descriptor: device, format: .human(colors: true), environment: { environment[$0] })
            sink.write([event])
            let text = readTerminal(controller)
            close(device)
            close(controller)
            #expect(text.contains("\u{1B}[31mERROR") == coloured, "\(environment): \(text.debugDescription)")
            #expect(text.contains("ERROR"))
        }
        let (readEnd, writeEnd) = pipe()
        let piped = StdoutSink(descriptor: writeEnd, format: .human(colors: true), environment: { ["TERM": "xterm"][$0] })
        piped.write([event])
        close(writeEnd)
        let text = readAll(readEnd)
        close(readEnd)
        #expect(text.contains("ERROR") && !text.contains("\u{1B}["), "no colour in a pipe: \(text.debugDescription)")
    }

    @Test func readableFormatIsColouredOnRequestAndStaysOneLine() async throws {
        let (readEnd, writeEnd) = terminal()
        let sink = StdoutSink(descriptor: writeEnd, format: .human(colors: true), environment: { ["TERM": "xterm"][$0] })
        let bus = EventBus(configuration: .init(service: "s", volume: .full), sinks: [sink])
        bus.emit(BreakerStateChanged(breaker: "notion", from: "closed", to: "open", reason: "failure_threshold", failures: 5, successes: 0))
        bus.emit(.error, "custom.kind", message: "bad\nthing")
        await bus.shutdown()
        let text = readTerminal(readEnd).replacingOccurrences(of: "\r\n", with: "\n")
        close(writeEnd)
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
        let bus = EventBus(configuration: .init(service: "s", volume: .full), sinks: [sink, memory])
        for _ in 0..<5 { bus.emit(.info, "k", message: "m") }
        await bus.shutdown()
        close(writeEnd)
        let failed = try #require(try memory.events.first { $0.kind == .sinkFailed }?.payload(as: SinkFailed.self))
        #expect(failed.errno == Int64(EPIPE))
        #expect(sink.lostEvents >= 5)
        #expect(memory.events.filter { $0.kind == .sinkFailed }.count == 1)
    }
}
