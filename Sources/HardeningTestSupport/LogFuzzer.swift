import Hardening
import HardeningLog

/// A mutational fuzzer for the two parsers every log byte goes through: the line decoder and the
/// gzip reader. It mutates valid seeds (bit flips, byte changes, insertions, deletions,
/// duplications, splices, truncation, deep nesting, long runs) and checks, for each input, that
/// nothing crashes and that what decodes is stable: a decoded event, encoded and decoded again,
/// is the same event.
///
/// `tools/fuzz/run.sh` runs it for a bounded time; a short run is part of the tests.
public struct LogFuzzer {
    /// A broken property (a crash cannot be reported here: it ends the process, and the tool
    /// saves the input it was working on).
    public struct Finding: Sendable, CustomStringConvertible {
        /// What went wrong.
        public var problem: String
        /// The input.
        public var input: [UInt8]

        public var description: String { "\(problem) (\(input.count) bytes)" }
    }

    /// Inputs tried.
    public private(set) var executions = 0
    /// Inputs the decoder accepted.
    public private(set) var accepted = 0
    /// Gzip inputs that produced at least one intact event.
    public private(set) var recovered = 0
    /// The input being worked on (the tool writes it out if the process crashes).
    public private(set) var current: [UInt8] = []

    private var random: SplitMix64
    private let decoder = JSONLineDecoder()
    private let encoder = JSONLineEncoder(maxLineBytes: 1 << 24)
    private var lineSeeds: [[UInt8]] = []
    private var gzipSeed: [UInt8] = []

    /// A fuzzer seeded with `seed`, with every payload kind as line seeds.
    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        var plain: [UInt8] = []
        for (index, payload) in PayloadSamples.all.enumerated() {
            let event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(index)), level: payload.defaultLevel,
                              kind: type(of: payload).kind, message: payload.message, service: "rag", host: "h",
                              run: "0123456789abcdef", seq: UInt64(index + 1), traceID: index % 3 == 0 ? "4bf92f3577b34da6a3ce929d0e0e4736" : nil,
                              attrs: payload.attributes)
            let line = encoder.encode(event)
            lineSeeds.append(Array(line.dropLast()))
            plain += line
        }
        lineSeeds.append(Array(#"{"a":[1,-2.5e-3,true,null,{"b":"\u00e9\ud83d\ude00"}],"s":"tab\there"}"#.utf8))
        if let compressor = try? GzipCompressor(level: 6) {
            let half = plain.count / 2
            compressor.compressMember(Array(plain[..<half]), into: &gzipSeed)
            compressor.compressMember(Array(plain[half...]), into: &gzipSeed)
        }
    }

    /// Runs `iterations` inputs (half lines, half gzip streams); returns broken properties.
    public mutating func run(iterations: Int) -> [Finding] {
        var findings: [Finding] = []
        for _ in 0..<iterations {
            if random.next() % 2 == 0 {
                if let finding = fuzzLine() { findings.append(finding) }
            } else {
                if let finding = fuzzGzip() { findings.append(finding) }
            }
        }
        return findings
    }

    private mutating func fuzzLine() -> Finding? {
        var input = lineSeeds[Int(random.next() % UInt64(lineSeeds.count))]
        mutate(&input, rounds: Int(random.next() % 4) + 1)
        current = input
        executions += 1
        guard let event = try? decoder.decode(input) else { return nil }
        accepted += 1
        let again = encoder.encode(event)
        guard let second = try? decoder.decode(again.dropLast()) else {
            return Finding(problem: "a decoded event re-encodes to a line that does not decode", input: input)
        }
        guard second == event || event.truncated else {
            return Finding(problem: "decode → encode → decode changed the event", input: input)
        }
        return nil
    }

    private mutating func fuzzGzip() -> Finding? {
        var input = gzipSeed
        mutate(&input, rounds: Int(random.next() % 3) + 1)
        current = input
        executions += 1
        guard let decompressor = try? GzipDecompressor() else { return Finding(problem: "zlib would not start", input: []) }
        var produced = 0
        var lines = 0
        var pending: [UInt8] = []
        // Random chunking: the reader must not depend on where reads end.
        var position = 0
        func take(_ bytes: UnsafeRawBufferPointer) {
            produced += bytes.count
            for byte in bytes {
                if byte == 0x0A {
                    if (try? decoder.decode(pending)) != nil { lines += 1 }
                    pending.removeAll(keepingCapacity: true)
                } else if pending.count < 1 << 20 {
                    pending.append(byte)
                }
            }
        }
        while position < input.count {
            let size = min(input.count - position, Int(random.next() % 512) + 1)
            input[position..<(position + size)].withUnsafeBytes { chunk in
                decompressor.feed(chunk, output: take, damaged: { _ in pending.removeAll(keepingCapacity: true) })
            }
            position += size
        }
        decompressor.finish(output: take, damaged: { _ in pending.removeAll(keepingCapacity: true) })
        if lines > 0 { recovered += 1 }
        guard produced <= 64 << 20 else { return Finding(problem: "inflated more than 64 MiB from a small input", input: input) }
        // Differential: zlib alone, fed in other pieces, gives the same bytes and the same damage
        // as whole members through libdeflate.
        // Every other input (the check triples the work of one).
        guard produced <= 1 << 20, random.next() % 2 == 0 else { return nil }
        guard let whole = try? GzipDecompressor(), let streaming = try? GzipDecompressor(wholeMembers: false) else { return nil }
        let cut = Int(random.next() % UInt64(max(1, input.count)))
        let outputs = [whole, streaming].map { decompressor -> [UInt8] in
            var bytes: [UInt8] = []
            input.withUnsafeBytes { raw in
                decompressor.feed(UnsafeRawBufferPointer(rebasing: raw[0..<cut]), output: { bytes.append(contentsOf: $0) })
                decompressor.feed(UnsafeRawBufferPointer(rebasing: raw[cut...]), output: { bytes.append(contentsOf: $0) })
            }
            decompressor.finish(output: { bytes.append(contentsOf: $0) })
            return bytes
        }
        guard outputs[0] == outputs[1], whole.damage == streaming.damage else {
            return Finding(problem: "libdeflate and zlib disagree: \(whole.damage) against \(streaming.damage)", input: input)
        }
        return nil
    }

    private mutating func mutate(_ bytes: inout [UInt8], rounds: Int) {
        for _ in 0..<rounds {
            let count = bytes.count
            let at = count == 0 ? 0 : Int(random.next() % UInt64(count))
            switch random.next() % 10 {
            case 0 where count > 0: bytes[at] ^= UInt8(1 << (random.next() % 8))
            case 1 where count > 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 2: bytes.insert(contentsOf: (0..<(random.next() % 16 + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
            case 3 where count > 1: bytes.removeSubrange(at..<min(count, at + Int(random.next() % 32) + 1))
            case 4 where count > 1:
                let end = min(count, at + Int(random.next() % 64) + 1)
                bytes.insert(contentsOf: bytes[at..<end], at: Int(random.next() % UInt64(count)))
            case 5:
                let other = lineSeeds[Int(random.next() % UInt64(lineSeeds.count))]
                let from = Int(random.next() % UInt64(other.count))
                bytes = Array(bytes[..<at]) + other[from...]
            case 6 where count > 0: bytes.removeSubrange(at...)
            case 7: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: random.next() % 2 == 0 ? "[" : "{"), count: Int(random.next() % 200) + 1), at: at)
            case 8: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: random.next() % 2 == 0 ? "9" : "\\"), count: Int(random.next() % 400) + 1), at: at)
            default:
                let tokens = [#"\u0000"#, #"\ud800"#, #"\udc00\ud800"#, "1e999", "-0", "\"", ":", ",", "}", "]", "\u{FF}", "\u{2028}"]
                bytes.insert(contentsOf: Array(tokens[Int(random.next() % UInt64(tokens.count))].utf8), at: at)
            }
        }
    }
}
