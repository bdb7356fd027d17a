#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// Replay's hot path: folds a line our encoder wrote straight from its bytes, without building
/// an `Event`, for the kinds that make up most logs (timings, retries, breakers, fallbacks,
/// errors, health probes).
///
/// It is strict: the envelope must be in the encoder's key order with no whitespace, no string
/// may hold an escape or a control byte, and every attr the kind's payload reads must have the
/// type the payload wants. Anything else (including every other kind) returns `false`, and the
/// caller decodes the line in full; both paths end in the same `Summary.apply` and `Timeline`
/// calls, so the result never depends on which one ran.
struct LineScanner {
    private var interner = StringInterner()

    /// One scanned attr: where its key and value are.
    private struct Field {
        var key: Range<Int>
        var value: Range<Int>
        var type: ScannedValueType
    }

    private var fields: [Field] = []
    /// Events counted but not yet handed to the summary, by kind and level.
    private var counts = [Int64](repeating: 0, count: LineScanner.kinds.count * EventLevel.allCases.count)
    /// Lines and bytes read and not yet handed over, by kind (every line read, kept or not).
    private var volumes = [KindVolume](repeating: KindVolume(), count: LineScanner.kinds.count)
    /// The run being read, gathered before it is handed to the summary.
    private var pendingRun: (run: String, stretch: Summary.Run)?

    /// Whether the timeline is fed (the summary always is).
    private let buildsTimeline: Bool
    /// Whether notable events are handed to the post-mortem.
    private let buildsPostMortem: Bool
    /// The envelope conditions of the replay's filter (`nil`: every event counts). A filter on
    /// operations needs the attrs of every kind: the caller decodes instead.
    private let filter: ReplayFilter?

    init(buildsTimeline: Bool = true, buildsPostMortem: Bool = true, filter: ReplayFilter? = nil) {
        precondition(filter?.operations.isEmpty ?? true, "a filter on operations is the decoder's")
        self.buildsTimeline = buildsTimeline
        self.buildsPostMortem = buildsPostMortem
        self.filter = filter.flatMap { $0.keepsEverything ? nil : $0 }
        fields.reserveCapacity(16)
    }

    /// Hands what was gathered (counts, the current run's stretch) to `summary` and the lines'
    /// volume to `volume`; call at the end of each file.
    mutating func flush(into summary: inout Summary, volume: inout [String: KindVolume]) {
        for (index, gathered) in volumes.enumerated() where gathered.lines > 0 {
            volume[Self.kinds[index].type.kind.rawValue, default: KindVolume()].add(gathered)
            volumes[index] = KindVolume()
        }
        let levels = EventLevel.allCases
        for (index, count) in counts.enumerated() where count > 0 {
            summary.count(kind: Self.kinds[index / levels.count].type.kind, level: levels[index % levels.count], times: count)
            counts[index] = 0
        }
        if let pending = pendingRun {
            summary.recordRun(pending.run, stretch: pending.stretch)
            pendingRun = nil
        }
    }

    /// What ``fold(_:into:timeline:duplicates:)`` did with a line.
    enum Outcome {
        /// Folded into the summary and the timeline.
        case folded
        /// The same `run` and `seq` as an event folded before: left out, counted in `duplicates`.
        case duplicate
        /// Read and counted in its run (for loss accounting), but the filter left it out.
        case filteredOut
        /// Not a line this scanner reads: nothing changed; the caller decodes it.
        case declined
    }

    /// Folds `line` (without its newline) into `summary` and `timeline` if it can; `.declined`
    /// leaves both untouched.
    mutating func fold(_ line: UnsafeBufferPointer<UInt8>, into summary: inout Summary, timeline: inout Timeline,
                       postMortem: inout PostMortem, duplicates: inout DuplicateFilter) -> Outcome {
        guard let base = line.baseAddress else { return .declined }
        currentLine = line
        var cursor = Cursor(base: base, count: line.count)
        guard cursor.expect(#"{"timestamp":""#), let timestampRange = cursor.stringBody(),
            let timestamp = Timestamp.parse(UnsafeBufferPointer(rebasing: line[timestampRange])),
            cursor.expect(#","level":""#), let levelRange = cursor.stringBody(), let level = Self.level(line, levelRange),
            cursor.expect(#","event":""#), let kindRange = cursor.stringBody(), let kindIndex = Self.kindIndex(line, kindRange),
            cursor.expect(#","message":""#), let messageRange = cursor.stringBody(),
            cursor.expect(#","service":""#), let serviceRange = cursor.stringBody(),
            cursor.expect(#","host":""#), let hostRange = cursor.stringBody(),
            cursor.expect(#","run":""#), let runRange = cursor.stringBody(),
            cursor.expect(#","seq":"#), let seq = cursor.unsignedInteger()
        else { return .declined }
        var traceRange: Range<Int>?
        if cursor.expect(#","trace_id":""#) {
            guard let range = cursor.stringBody() else { return .declined }
            traceRange = range
        }
        if cursor.expect(#","span_id":""#) { guard cursor.stringBody() != nil else { return .declined } }
        // The attrs object closes, then the event: `}}` and nothing after it.
        guard cursor.expect(#","attrs":{"#), scanAttrs(&cursor), cursor.expect("}}"), cursor.atEnd else { return .declined }

        let run = interner.string(line, runRange)
        if duplicates.isDuplicate(run: run, seq: seq) {
            volumes[kindIndex].add(lineOf: line.count + 1)
            return .duplicate
        }
        let position = StreamPosition(timestamp: timestamp, run: run, seq: seq)
        let kind = Self.kinds[kindIndex].type.kind
        if let filter, !keeps(filter, timestamp, level, kind, line, serviceRange, hostRange, runRange, traceRange) {
            recordRun(position, line, serviceRange, hostRange, &summary)
            duplicates.insert(run: run, seq: seq)
            volumes[kindIndex].add(lineOf: line.count + 1)
            return .filteredOut
        }
        // The kind's payload reads itself through this scanner (the same reading as from decoded
        // attrs); one that does not read leaves the line to the decoder, with nothing changed.
        let type = Self.kinds[kindIndex].type
        if type.isCountedOnly {
            commit(kindIndex, level, position, line, serviceRange, hostRange, &summary)
            if buildsTimeline { timeline.recordEvent(at: timestamp) }
        } else {
            guard foldPayload(type, kindIndex, level, position, serviceRange, hostRange, traceRange, messageRange, &summary, &timeline, &postMortem)
            else { return .declined }
        }
        duplicates.insert(run: run, seq: seq)
        volumes[kindIndex].add(lineOf: line.count + 1)
        return .folded
    }

    /// Reads the line's payload and, if it reads, commits the envelope and folds the payload;
    /// `false` (nothing changed) when it does not read here.
    private mutating func foldPayload<P: EventPayload>(_ type: P.Type, _ kindIndex: Int, _ level: EventLevel, _ position: StreamPosition,
                                                      _ service: Range<Int>, _ host: Range<Int>, _ trace: Range<Int>?, _ message: Range<Int>,
                                                      _ summary: inout Summary, _ timeline: inout Timeline,
                                                      _ postMortem: inout PostMortem) -> Bool {
        readingKind = P.kind
        let payload: P
        do {
            payload = try P(reading: &self)
        } catch {
            return false
        }
        commit(kindIndex, level, position, currentLine, service, host, &summary)
        payload.fold(into: &summary, at: position)
        if buildsTimeline { payload.record(into: &timeline, at: position) }
        if buildsPostMortem, Self.mayBeNotable[kindIndex], let notable = PostMortem.notable(payload) {
            let line = currentLine
            postMortem.record(notable, at: Occurrence(timestamp: position.timestamp, host: interner.string(line, host), run: position.run,
                                                      seq: position.seq),
                              traceID: trace.map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self) },
                              message: String(decoding: UnsafeBufferPointer(rebasing: line[message]), as: UTF8.self))
        }
        return true
    }

    /// `ReplayFilter.keeps` on the envelope (the filter has no operations).
    private mutating func keeps(_ filter: ReplayFilter, _ timestamp: Timestamp, _ level: EventLevel, _ kind: EventKind,
                                _ line: UnsafeBufferPointer<UInt8>, _ service: Range<Int>, _ host: Range<Int>, _ run: Range<Int>,
                                _ trace: Range<Int>?) -> Bool {
        if let since = filter.since, timestamp < since { return false }
        if !filter.runs.isEmpty, !filter.runs.contains(interner.string(line, run)) { return false }
        if !filter.traceIDs.isEmpty {
            guard let trace, filter.traceIDs.contains(String(decoding: UnsafeBufferPointer(rebasing: line[trace]), as: UTF8.self)) else { return false }
        }
        if let until = filter.until, timestamp >= until { return false }
        if !filter.services.isEmpty, !filter.services.contains(interner.string(line, service)) { return false }
        if !filter.hosts.isEmpty, !filter.hosts.contains(interner.string(line, host)) { return false }
        if let minimum = filter.minimumLevel, level < minimum { return false }
        if !filter.kinds.isEmpty, !filter.kinds.contains(where: { ReplayFilter.matches(pattern: $0, kind: kind.rawValue) }) { return false }
        return true
    }

    /// The envelope's part of the fold: the run's coverage, and counts by kind and level.
    private mutating func commit(_ kind: Int, _ level: EventLevel, _ position: StreamPosition, _ line: UnsafeBufferPointer<UInt8>,
                                 _ service: Range<Int>, _ host: Range<Int>, _ summary: inout Summary) {
        counts[kind * EventLevel.allCases.count + level.ordinal] += 1
        recordRun(position, line, service, host, &summary)
    }

    /// The run's coverage: every event read counts, kept or not (loss accounting).
    private mutating func recordRun(_ position: StreamPosition, _ line: UnsafeBufferPointer<UInt8>,
                                    _ service: Range<Int>, _ host: Range<Int>, _ summary: inout Summary) {
        guard !position.run.isEmpty else { return }
        if pendingRun?.run == position.run {
            // Service and host only matter for an event that may be the run's earliest.
            let mayBeEarliest = position.timestamp <= pendingRun!.stretch.first
            pendingRun!.stretch.record(service: mayBeEarliest ? interner.string(line, service) : pendingRun!.stretch.service,
                                       host: mayBeEarliest ? interner.string(line, host) : pendingRun!.stretch.host,
                                       timestamp: position.timestamp, seq: position.seq)
            return
        }
        if let pending = pendingRun { summary.recordRun(pending.run, stretch: pending.stretch) }
        pendingRun = (position.run, Summary.Run(service: interner.string(line, service), host: interner.string(line, host),
                                                timestamp: position.timestamp, seq: position.seq))
    }

    // MARK: - Attrs

    /// Scans a flat or nested attrs object (after its `{`, up to its `}`) into `fields`.
    private mutating func scanAttrs(_ cursor: inout Cursor) -> Bool {
        fields.removeAll(keepingCapacity: true)
        if cursor.peek == UInt8(ascii: "}") { return true }
        while true {
            guard cursor.expect("\""), let key = cursor.stringBody(), cursor.expect(":") else { return false }
            let start = cursor.position
            guard let type = cursor.skipValue(depth: 1) else { return false }
            var value = start..<cursor.position
            if type == .string { value = (start + 1)..<(cursor.position - 1) }
            // A repeated key is the decoder's business (it keeps the last one).
            if fields.contains(where: { cursor.equal($0.key, key) }) { return false }
            fields.append(Field(key: key, value: value, type: type))
            if cursor.expect(",") { continue }
            return cursor.peek == UInt8(ascii: "}")
        }
    }

    private func field(_ name: StaticString) -> Field? {
        let count = name.utf8CodeUnitCount
        return name.withUTF8Buffer { name in
            fields.first { field in
                field.key.count == count && bytesEqual(currentLine.baseAddress! + field.key.lowerBound, name.baseAddress!, count)
            }
        }
    }

    /// The line being folded (attr keys and values are ranges in it).
    private var currentLine = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    /// The kind whose payload is being read (for the errors that send a line to the decoder).
    private var readingKind = EventKind.logMessage

    /// Strings up to this long are interned (names, outcomes, states); longer ones (messages) are
    /// made each time, so that they do not churn the interner.
    private static let internedLength = 48

    /// The field `name` if it is of type `expected` (or `alternative`), `nil` when absent or null.
    @inline(__always)
    private func value(_ name: StaticString, _ expected: ScannedValueType, or alternative: ScannedValueType? = nil)
        throws(PayloadDecodingError) -> Field?
    {
        guard let field = field(name), field.type != .null else { return nil }
        guard field.type == expected || field.type == alternative else { throw declined(name) }
        return field
    }

    private func declined(_ name: StaticString) -> PayloadDecodingError {
        PayloadDecodingError(kind: readingKind, field: name.description, problem: "is left to the decoder")
    }

    private func bytes(_ field: Field) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: currentLine[field.value]) }
}

/// The scanner reads payloads as `AttributeReader` does from decoded attrs: the same value for
/// every field it reads, and an error (the line goes to the decoder) wherever it is not sure.
extension LineScanner: PayloadReader {
    mutating func optionalString(_ name: StaticString) throws(PayloadDecodingError) -> String? {
        guard let field = try value(name, .string) else { return nil }
        if field.value.count <= Self.internedLength { return interner.string(currentLine, field.value) }
        return String(decoding: bytes(field), as: UTF8.self)
    }

    mutating func string(_ name: StaticString) throws(PayloadDecodingError) -> String {
        guard let string = try optionalString(name) else { throw declined(name) }
        return string
    }

    /// An integer literal (a whole-valued decimal, which `AttributeReader` accepts too, is the decoder's).
    mutating func optionalInt(_ name: StaticString) throws(PayloadDecodingError) -> Int64? {
        guard let field = try value(name, .integer) else { return nil }
        guard let value = Cursor.parseInteger(bytes(field)) else { throw declined(name) }
        return value
    }

    mutating func int(_ name: StaticString) throws(PayloadDecodingError) -> Int64 {
        guard let value = try optionalInt(name) else { throw declined(name) }
        return value
    }

    /// A number, as the decoder reads it: an integer literal through `Int64`, anything else
    /// through `Double`'s own parser, unless exact without it.
    mutating func optionalDouble(_ name: StaticString) throws(PayloadDecodingError) -> Double? {
        guard let field = try value(name, .integer, or: .number) else { return nil }
        let bytes = bytes(field)
        if field.type == .integer {
            guard let value = Cursor.parseInteger(bytes) else { throw declined(name) }
            return Double(value)
        }
        if let exact = Cursor.exactDecimal(bytes) { return exact }
        guard let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite else { throw declined(name) }
        return value
    }

    mutating func double(_ name: StaticString) throws(PayloadDecodingError) -> Double {
        guard let value = try optionalDouble(name) else { throw declined(name) }
        return value
    }

    mutating func optionalBool(_ name: StaticString) throws(PayloadDecodingError) -> Bool? {
        guard let field = try value(name, .bool) else { return nil }
        return currentLine[field.value.lowerBound] == UInt8(ascii: "t")
    }

    mutating func bool(_ name: StaticString) throws(PayloadDecodingError) -> Bool {
        guard let value = try optionalBool(name) else { throw declined(name) }
        return value
    }

    /// A nested object, parsed by the decoder's own parser (a metric's dimensions).
    mutating func object(_ name: StaticString) throws(PayloadDecodingError) -> Attributes {
        guard let field = try value(name, .object) else { return Attributes() }
        var parser = JSONParser(bytes: bytes(field), maxDepth: JSONLineDecoder().maxDepth)
        guard let parsed = try? parser.parseValue(depth: 2), parser.isAtEnd, case .object(let object) = parsed else { throw declined(name) }
        return object
    }

    /// Checked to be an object, its content left out: no fold reads it.
    mutating func details(_ name: StaticString) throws(PayloadDecodingError) -> Attributes {
        _ = try value(name, .object)
        return Attributes()
    }
}

extension LineScanner {
    // MARK: - Envelope values

    private static let levelNames: [(bytes: [UInt8], level: EventLevel)] = EventLevel.allCases.map { (Array($0.rawValue.utf8), $0) }

    private static func level(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> EventLevel? {
        for entry in levelNames where entry.bytes.count == range.count {
            if entry.bytes.withUnsafeBufferPointer({ bytesEqual($0.baseAddress!, line.baseAddress! + range.lowerBound, range.count) }) {
                return entry.level
            }
        }
        return nil
    }

    /// Every kind of the table but a file's own `file.opened` and `file.closed` (one a file,
    /// for the decoder); unknown kinds go to the decoder too.
    /// `timing.recorded` first: the kind most logs hold most of.
    private static let kinds: [(bytes: [UInt8], type: any EventPayload.Type)] = ([TimingRecorded.self] + EventKind.payloadTypes)
        .filter { $0.kind != .fileOpened && $0.kind != .fileClosed }
        .reduce(into: []) { kinds, type in if !kinds.contains(where: { $0.type.kind == type.kind }) { kinds.append((Array(type.kind.rawValue.utf8), type)) } }

    /// Whether a kind of ``kinds`` (by index) can tell the post-mortem anything: the others skip it.
    private static let mayBeNotable: [Bool] = kinds.map { PostMortem.kinds.contains($0.type.kind) }

    private static func kindIndex(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        for (index, entry) in kinds.enumerated() where entry.bytes.count == range.count {
            if entry.bytes.withUnsafeBufferPointer({ bytesEqual($0.baseAddress!, line.baseAddress! + range.lowerBound, range.count) }) {
                return index
            }
        }
        return nil
    }
}
