import ArgumentParser
import CZlib
import Hardening
import HardeningLog
import HardeningWorkload

#if canImport(Glibc)
import Glibc
#endif

/// Release-mode benchmarks of the event core. `tools/bench/run.sh` runs them next to the Python
/// peers on the same workload and prints the ratios that BENCHMARKS.md records.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hardening-bench",
        abstract: "Benchmarks of the event core (run in release mode).",
        subcommands: [Pipeline.self, Zlib.self, EmitLatency.self, Memory.self, Primitives.self, ReplayBench.self, InflateBench.self, VolumeBench.self]
    )
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func monotonicNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

/// The workload: `count` events of the synthetic mix, prepared before any timing starts.
func prepareEvents(_ count: Int, seed: UInt64) -> [Event] {
    var workload = SyntheticWorkload(seed: seed)
    let clock = SystemWallClock()
    var events: [Event] = []
    events.reserveCapacity(count)
    for _ in 0..<count {
        let next = workload.next()
        events.append(Event(timestamp: clock.now(), level: next.level, kind: next.kind, message: next.message, attrs: next.attrs))
    }
    return events
}

/// Emit to gzip file, end to end: emit every event, then shut the bus down (everything on disk).
struct Pipeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Emit N prepared events into a gzip-stream file; report events/s.")

    @Option var events = 1_000_000
    @Option var level = 6
    @Option var seed: UInt64 = 1
    @Option(help: "Bytes the bus buffer and the sink's queue each hold (default: the bus's default).")
    var capacityBytes: Int?
    @Option(help: "Directory for the log file; the uncompressed lines are also written to DIR/raw.jsonl for the peers.")
    var out: String

    func run() async throws {
        let prepared = prepareEvents(events, seed: seed)
        let sink = RotatingFileSink(configuration: .init(directory: out, format: .gzipStream, maxFileBytes: nil,
                                                         compression: nil, streamCompressionLevel: level))
        // Every event written: the sink's throughput, not the rollup's.
        var configuration = EventBus.Configuration(service: "bench", host: "bench-host", capacity: 65_536, overflowPolicy: .block, volume: .full)
        if let capacityBytes {
            configuration.capacityBytes = capacityBytes
            configuration.sinkQueueCapacityBytes = capacityBytes
        }
        let bus = EventBus(configuration: configuration, sinks: [sink])
        let start = monotonicSeconds()
        for event in prepared { bus.emit(event) }
        await bus.shutdown()
        let seconds = monotonicSeconds() - start
        // Untimed: the uncompressed bytes, for zlib alone and the peers.
        var raw: [UInt8] = []
        let reader = LogReader()
        var lines = 0
        let output = open(out + "/raw.jsonl", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let encoder = JSONLineEncoder()
        reader.read(out + "/events.jsonl.gz", onEvent: { event in
            encoder.append(event, to: &raw)
            lines += 1
            if raw.count > 1 << 20 {
                _ = raw.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                raw.removeAll(keepingCapacity: true)
            }
        }, onIssue: { print("issue: \($0)") })
        _ = raw.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
        close(output)
        print("pipeline events=\(events) lines=\(lines) seconds=\(seconds) events_per_second=\(Double(events) / seconds) written=\(sink.statistics.writtenEvents)")
    }
}

/// zlib alone (or libdeflate alone) on the same bytes at the same level, in 1 MiB members as the
/// sink writes them.
struct Zlib: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compress a JSON-lines file with zlib alone; report lines/s.")

    @Option var input: String
    @Option var level = 6
    @Flag(help: "libdeflate alone instead (what the sink compresses gzip-stream members with where it is installed).")
    var libdeflate = false

    func run() throws {
        let descriptor = open(input, O_RDONLY)
        guard descriptor >= 0 else { throw ValidationError("cannot open \(input)") }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        close(descriptor)
        let lines = data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let compressor = try GzipCompressor(level: level, wholeMembers: libdeflate)
        guard compressor.compressesWithLibdeflate == libdeflate else { throw ValidationError("libdeflate is not installed") }
        var output: [UInt8] = []
        output.reserveCapacity(data.count / 4)
        let start = monotonicSeconds()
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                var end = min(raw.count, offset + (1 << 20))
                while end < raw.count && raw[end - 1] != 0x0A { end += 1 }
                compressor.compressMember(UnsafeRawBufferPointer(rebasing: raw[offset..<end]), into: &output)
                offset = end
            }
        }
        let seconds = monotonicSeconds() - start
        print("\(libdeflate ? "libdeflate" : "zlib") bytes=\(data.count) compressed=\(output.count) lines=\(lines) seconds=\(seconds) events_per_second=\(Double(lines) / seconds) mb_per_second=\(Double(data.count) / seconds / 1e6)")
    }
}

/// Latency of `emit` on a producer while the sink is busy compressing on the other core.
///
/// The producer emits at `--rate` (below the pipeline's throughput, so that the default
/// capacity of 65,536 never overflows) with the default drop-newest policy; every call is timed
/// on its own with the monotonic clock, less the clock's own cost.
struct EmitLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time every emit while a gzip file sink is busy; report percentiles.")

    @Option var events = 1_000_000
    @Option(help: "Events per second the producer offers.")
    var rate = 200_000.0
    @Option(help: "Distinct prepared events, emitted in turn: few enough to stay in cache, as an event an application has just built is.")
    var distinct = 4096
    @Option(name: .customLong("trace-context"), help: "service-context (the default: each emit reads ServiceContext.current) or none.")
    var traceContext = "service-context"
    @Option(help: "full (every event written, the default) or production (the rollup on the drain thread).")
    var detail = "full"
    @Flag(help: "Emit only routine calls (a timing.recorded that succeeded in time, what the production detail folds) instead of the mix of every kind.")
    var routine = false
    @Option var out: String

    func run() async throws {
        var pool = prepareEvents(distinct, seed: 3)
        if routine {
            pool = (0..<distinct).map { index in
                let call = TimingRecorded(operation: ["notes.fetch", "vectors.query", "llm.complete"][index % 3],
                                          durationMs: Double(index % 997) / 10 + 1, outcome: "success")
                return Event(timestamp: Timestamp(microsecondsSinceEpoch: 0), level: call.defaultLevel, kind: TimingRecorded.kind,
                             message: call.message, attrs: call.attributes)
            }
        }
        let sink = RotatingFileSink(configuration: .init(directory: out, format: .gzipStream, maxFileBytes: nil, compression: nil))
        let provider: TraceContextProvider = traceContext == "none" ? .none : .serviceContext
        let bus = EventBus(configuration: .init(service: "bench", traceContext: provider, volume: detail == "production" ? .production : .full),
                           sinks: [sink])
        var timerOverhead = Int64.max
        for _ in 0..<1000 {
            let a = monotonicNanoseconds()
            let b = monotonicNanoseconds()
            timerOverhead = min(timerOverhead, b - a)
        }
        var samples = [Int64](repeating: 0, count: events)
        let interval = 1e9 / rate
        let start = monotonicNanoseconds()
        for index in 0..<events {
            // Untimed: build the event as an application would, with its own fresh message and
            // attrs, so that the emit does not share reference counts with the drain thread.
            let template = pool[index % pool.count]
            let event = Event(timestamp: template.timestamp, level: template.level, kind: template.kind,
                              message: String(decoding: Array(template.message.utf8), as: UTF8.self),
                              attrs: Attributes(uniqueKeysWithValues: Array(template.attrs.pairs)))
            let due = start + Int64(Double(index) * interval)
            while monotonicNanoseconds() < due {}
            let before = monotonicNanoseconds()
            bus.emit(event)
            samples[index] = max(0, monotonicNanoseconds() - before - timerOverhead)
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        let dropped = bus.statistics.dropped
        await bus.shutdown()
        samples.sort()
        func percentile(_ p: Double) -> Int64 { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
        print("emit_latency_ns detail=\(detail) routine=\(routine) events=\(events) offered_rate=\(Int(rate)) achieved_rate=\(Int(Double(events) / elapsed)) timer_overhead=\(timerOverhead) p50=\(percentile(0.5)) p90=\(percentile(0.9)) p99=\(percentile(0.99)) p999=\(percentile(0.999)) max=\(samples.last ?? 0) dropped=\(dropped) written=\(sink.statistics.writtenEvents)")
    }
}

/// Resident memory while emitting as fast as possible into a slow sink, for several capacities.
struct Memory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Emit flat out for a while into a slow sink; report peak RSS.")

    @Option var capacity = 65_536
    @Option var seconds = 3.0
    @Option var out: String

    func run() async throws {
        let prepared = prepareEvents(100_000, seed: 5)
        let sink = RotatingFileSink(configuration: .init(directory: out, format: .gzipStream, maxFileBytes: nil, compression: nil,
                                                         streamCompressionLevel: 9))
        let bus = EventBus(configuration: .init(service: "bench", capacity: capacity, overflowPolicy: .dropNewest, volume: .full), sinks: [sink])
        let start = monotonicSeconds()
        var emitted = 0
        while monotonicSeconds() - start < seconds {
            for event in prepared { bus.emit(event) }
            emitted += prepared.count
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let dropped = bus.statistics.dropped
        await bus.shutdown()
        print("memory capacity=\(capacity) seconds=\(seconds) emitted=\(emitted) dropped=\(dropped) max_rss_mib=\(Double(usage.ru_maxrss) / 1024)")
    }
}

@inline(never)
func bareOperation(_ value: Int) async throws -> Int { value &+ 1 }

@inline(never)
func bareSyncOperation(_ value: Int) throws -> Int { value &+ 1 }

/// Success-path cost of the primitives over a bare async call, across the module boundary.
struct Primitives: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Success-path overhead of retry (async and blocking, with and without an elapsed limit) and a closed breaker, in ns per call.")

    @Option var calls = 5_000_000

    func run() async throws {
        var sink = 0
        func measure(_ body: () async throws -> Int) async rethrows -> Double {
            let start = monotonicNanoseconds()
            for _ in 0..<calls { sink &+= try await body() }
            return Double(monotonicNanoseconds() - start) / Double(calls)
        }
        func measureSync(_ body: () throws -> Int) rethrows -> Double {
            let start = monotonicNanoseconds()
            for _ in 0..<calls { sink &+= try body() }
            return Double(monotonicNanoseconds() - start) / Double(calls)
        }
        // The defaults users get: three attempts, full jitter, a 30 s elapsed limit (one clock read).
        let retry = Retry(policy: RetryPolicy(), budget: RetryBudget(), clock: ContinuousClock())
        let breaker = CircuitBreaker(name: "bench", failureThreshold: 5)
        let bare = try await measure { try await bareOperation(sink) }
        let retried = try await measure { try await retry.run("op") { try await bareOperation(1) } }
        let guarded = try await measure { try await breaker.call { try await bareOperation(1) } }
        let bareSync = try measureSync { try bareSyncOperation(sink) }
        let retriedSync = try measureSync { try retry.runBlocking("op") { try bareSyncOperation(1) } }
        let noLimit = Retry(policy: RetryPolicy(maxElapsed: nil), clock: ContinuousClock())
        let retriedSyncNoLimit = try measureSync { try noLimit.runBlocking("op") { try bareSyncOperation(1) } }
        let continuous = ContinuousClock()
        let clockRead = measureSync { continuous.now > continuous.now ? 0 : 1 } / 2
        let retriedNoLimit = try await measure { try await noLimit.run("op") { try await bareOperation(1) } }
        print("primitives_ns calls=\(calls) bare=\(bare) retry=\(retried) retry_overhead=\(retried - bare) breaker=\(guarded) breaker_overhead=\(guarded - bare) bare_sync=\(bareSync) retry_sync=\(retriedSync) retry_sync_overhead=\(retriedSync - bareSync) retry_sync_no_limit_overhead=\(retriedSyncNoLimit - bareSync) retry_no_limit_overhead=\(retriedNoLimit - bare) clock_read=\(clockRead) sink=\(sink % 2)")
    }
}

