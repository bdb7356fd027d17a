internal import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Inflates a gzip stream of any number of members, reporting damage instead of failing.
///
/// Feed the input in chunks with ``feed(_:output:damaged:)``; inflated bytes come out through the
/// callback. Corrupt data (a bad CRC, an invalid deflate block, garbage between members) is
/// reported with its input offset, and decoding resumes at the next gzip header found after it.
/// ``finish(output:damaged:)`` reports a member cut short (a torn tail) from one that simply ended.
///
/// Where libdeflate is installed, each member that fits ``WholeMemberInflater``'s output (every
/// member of a `gzip_stream` log) is inflated at once by libdeflate, about 2.4 times as fast;
/// zlib streams the rest. The bytes, the damage and its offsets are the same either way.
public final class GzipDecompressor {
    /// Damage found in the compressed input.
    public struct Damage: Hashable, Sendable {
        /// The input byte offset where the damaged member (or garbage) starts.
        public var offset: Int64
        /// What was wrong.
        public var reason: String
        /// Whether this is the end of the input cut inside a member (a torn tail).
        public var isTruncation: Bool
    }

    private let stream: UnsafeMutablePointer<z_stream>
    /// zlib's output, allocated when zlib first inflates.
    private lazy var scratch = [UInt8](repeating: 0, count: 256 << 10)
    private var consumed: Int64 = 0
    private var memberStart: Int64 = 0
    private var insideMember = false
    private var resyncing = false
    /// Whether the member being streamed was found by the search after damage, and whether it
    /// has inflated anything: one that fails before it does was no member, only more of the
    /// damaged stretch (not reported again, wherever the chunks happen to end).
    private var memberIsCandidate = false
    private var memberProduced = false
    /// Members decoded completely so far.
    public private(set) var completedMembers = 0
    /// Of those, the members libdeflate inflated whole (the others zlib streamed).
    package private(set) var membersInflatedWhole = 0
    /// Damage found so far.
    public private(set) var damage: [Damage] = []

    /// Reads whole members; `nil` streams everything through zlib (from the start, or after a
    /// member too large for it: a file compressed as one member, whose later members, if any,
    /// are as large; its output is released then).
    private var whole: WholeMemberInflater?
    /// Input held at a member boundary until the member is whole.
    private var held: [UInt8] = []
    /// Held input is tried again once it has this many bytes.
    private var retryBytes = 0
    /// A member not whole in this much held input is streamed through zlib instead.
    static let maxHeldBytes = 512 << 10
    /// The compressed bytes of the member zlib is streaming, from its start to where zlib is;
    /// `nil` once over ``maxKeptBytes``. After damage the search for the next member resumes
    /// inside them, even where the member began in an earlier chunk.
    private var memberBytes: [UInt8]? = []
    /// The most of a streamed member's compressed bytes kept for that search.
    static let maxKeptBytes = 256 << 10

    /// Creates a decompressor. `wholeMembers: false` streams every member through zlib (the
    /// same output; tests compare the two), as does a machine without libdeflate.
    public init(wholeMembers: Bool = true) throws(GzipError) {
        whole = wholeMembers ? WholeMemberInflater() : nil
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let result = czlib_inflateInit2(stream, 15 + 16)
        guard result == Z_OK else {
            stream.deallocate()
            throw GzipError(code: result, message: "inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates a chunk of input; `output` receives inflated bytes in order.
    /// `damaged` is called when corruption is found, between the output before it and after it.
    ///
    /// With whole members (libdeflate), input that ends inside a member is held until more
    /// arrives or ``finish(output:damaged:)``; the output is the same either way, only later.
    public func feed(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) -> Void,
                     damaged: (Damage) -> Void = { _ in }) {
        guard input.count > 0 else { return }
        if whole != nil {
            let bytes = input.assumingMemoryBound(to: UInt8.self)
            if held.isEmpty {
                let used = feedMembers(input, final: false, output: output, damaged: damaged)
                if used < input.count { held.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[used...])) }
            } else {
                held.append(contentsOf: bytes)
                let used = held.withUnsafeBytes { feedMembers($0, final: false, output: output, damaged: damaged) }
                held.removeFirst(used)
            }
            return
        }
        feedStreaming(input, output: output, damaged: damaged)
    }

    /// Streams all of `input` through zlib.
    private func feedStreaming(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) -> Void, damaged: (Damage) -> Void) {
        var position = 0
        var memberStartPosition: Int? = insideMember ? nil : 0
        while position < input.count {
            streamStep(input, &position, &memberStartPosition, output: output, damaged: damaged)
        }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
    }

    /// Reads `input` a whole member at a time where it can, and streams through zlib what it
    /// cannot (a member too large, damage, what follows damage). Returns how much was used: the
    /// rest is the start of a member not yet whole, which waits for more input unless `final`.
    private func feedMembers(_ input: UnsafeRawBufferPointer, final: Bool,
                             output: (UnsafeRawBufferPointer) -> Void, damaged: (Damage) -> Void) -> Int {
        var position = 0
        var memberStartPosition: Int? = insideMember ? nil : 0
        // Whether zlib reads the member at `position`.
        var streamsMember = false
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        while position < input.count {
            guard let whole, !insideMember, !resyncing, !streamsMember else {
                streamStep(input, &position, &memberStartPosition, output: output, damaged: damaged)
                streamsMember = false
                continue
            }
            let remaining = input.count - position
            // A member cut off by the end of the input so far is tried again once the held
            // input has doubled (linear work however the member arrives).
            if !final && remaining < retryBytes { return position }
            switch whole.inflate(UnsafeRawBufferPointer(rebasing: input[position...])) {
            case .member(let used, let produced):
                output(UnsafeRawBufferPointer(rebasing: whole.output[0..<produced]))
                position += used
                consumed += Int64(used)
                completedMembers += 1
                membersInflatedWhole += 1
                retryBytes = 0
            case .notWhole where !final && remaining < Self.maxHeldBytes:
                retryBytes = remaining * 2
                return position
            case .notWhole, .headerCRC:
                // Damaged, cut off for good, or with a header CRC to check: zlib streams it and
                // says what is wrong and where, as it does without libdeflate.
                retryBytes = 0
                streamsMember = true
            case .tooLarge:
                retryBytes = 0
                self.whole = nil
            }
        }
        return position
    }

    /// zlib from `position`: skips to the next member header after damage, then inflates until
    /// the member ends, the input runs out, or damage is found (reported; the search for the
    /// next header resumes one byte past the damaged member's start).
    private func streamStep(_ input: UnsafeRawBufferPointer, _ position: inout Int, _ memberStartPosition: inout Int?,
                            output: (UnsafeRawBufferPointer) -> Void, damaged: (Damage) -> Void) {
        let base = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let count = input.count
        if resyncing {
            // Skip to the next plausible member header (1f 8b 08).
            var found: Int? = nil
            var probe = position
            while probe < count {
                if base[probe] == 0x1F, probe + 1 >= count || base[probe + 1] == 0x8B,
                    probe + 2 >= count || base[probe + 2] == 0x08
                {
                    found = probe
                    break
                }
                probe += 1
            }
            guard let found else {
                consumed += Int64(count - position)
                position = count
                return
            }
            consumed += Int64(found - position)
            position = found
            resyncing = false
            inflateReset(stream)
            memberIsCandidate = true
        } else if !insideMember {
            memberIsCandidate = false
        }
        if !insideMember {
            insideMember = true
            memberProduced = false
            memberStart = consumed
            memberStartPosition = position
            if memberBytes == nil { memberBytes = [] }
            memberBytes!.removeAll(keepingCapacity: true)
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base + position)
        stream.pointee.avail_in = uInt(count - position)
        var result: Int32 = Z_OK
        scratch.withUnsafeMutableBytes { buffer in
            repeat {
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(buffer.count)
                result = inflate(stream, Z_NO_FLUSH)
                let produced = buffer.count - Int(stream.pointee.avail_out)
                if produced > 0 {
                    memberProduced = true
                    output(UnsafeRawBufferPointer(rebasing: buffer[0..<produced]))
                }
            } while result == Z_OK && stream.pointee.avail_out == 0
        }
        let used = (count - position) - Int(stream.pointee.avail_in)
        if memberBytes != nil {
            if memberBytes!.count + used <= Self.maxKeptBytes {
                memberBytes!.append(contentsOf: UnsafeBufferPointer(start: base + position, count: used))
            } else {
                memberBytes = nil
            }
        }
        position += used
        consumed += Int64(used)
        switch result {
        case Z_STREAM_END:
            completedMembers += 1
            insideMember = false
            memberBytes?.removeAll(keepingCapacity: true)
            inflateReset(stream)
        case Z_OK, Z_BUF_ERROR:
            if used == 0 && stream.pointee.avail_in > 0 {
                // No progress with input left: treat as corruption to guarantee termination.
                damaged(fail(at: memberStart, "inflate made no progress", reported: true)!)
                position += 1
                consumed += 1
            }
        default:
            let reason = stream.pointee.msg.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)).bindMemory(to: UInt8.self), as: UTF8.self) } ?? "zlib error \(result)"
            let found = fail(at: memberStart, reason, reported: !(memberIsCandidate && !memberProduced))
            if let found { damaged(found) }
            // Resume the search one byte past the start of the damaged member: in this chunk, or
            // in the member's kept bytes when it began in an earlier one.
            if let start = memberStartPosition, start < position {
                consumed -= Int64(position - start - 1)
                position = start + 1
            } else if let kept = memberBytes, kept.count > 1 {
                consumed = memberStart + 1
                Array(kept.dropFirst()).withUnsafeBytes { feedStreaming($0, output: output, damaged: damaged) }
                memberStartPosition = nil
            } else if used == 0 {
                position += 1
                consumed += 1
            }
        }
    }

    /// Ends the member as damaged and starts the search for the next one; `reported: false`
    /// for a candidate that was no member (the damage it belongs to is reported already).
    private func fail(at offset: Int64, _ reason: String, reported: Bool) -> Damage? {
        let found = reported ? Damage(offset: offset, reason: reason, isTruncation: false) : nil
        if let found { damage.append(found) }
        defer { inflateReset(stream) }
        insideMember = false
        resyncing = true
        return found
    }

    /// Ends the input: inflates what was held for a whole member (`output` and `damaged` as in
    /// ``feed(_:output:damaged:)``). Returns the torn tail, if the input ended inside a member.
    @discardableResult
    public func finish(output: (UnsafeRawBufferPointer) -> Void, damaged: (Damage) -> Void = { _ in }) -> Damage? {
        if whole != nil, !held.isEmpty {
            let rest = held
            held = []
            retryBytes = 0
            _ = rest.withUnsafeBytes { feedMembers($0, final: true, output: output, damaged: damaged) }
        }
        // A member whose data ran on past where a later member starts (a damaged end of block, or
        // a bit that made one): the later member is read, and the first counts as damaged, not torn.
        while insideMember, let kept = memberBytes, let later = Self.laterWholeMember(in: kept) {
            damaged(fail(at: memberStart, "the member's data runs on into a later member (damaged)", reported: true)!)
            consumed = memberStart + Int64(later)
            Array(kept[later...]).withUnsafeBytes { feedStreaming($0, output: output, damaged: damaged) }
        }
        // A candidate found after damage that never inflated anything is part of that damage.
        guard insideMember, consumed > memberStart || stream.pointee.total_in > 0, !(memberIsCandidate && !memberProduced) else {
            insideMember = false
            inflateReset(stream)
            return nil
        }
        insideMember = false
        let tail = Damage(offset: memberStart, reason: "input ends inside a gzip member (torn tail)", isTruncation: true)
        damage.append(tail)
        inflateReset(stream)
        return tail
    }

    /// Where, after its first byte, `bytes` holds the start of a whole intact member (zlib reads
    /// at least one member from there without damage at its start); `nil` if nowhere.
    private static func laterWholeMember(in bytes: [UInt8]) -> Int? {
        var index = 1
        while index + 18 <= bytes.count {
            defer { index += 1 }
            guard bytes[index] == 0x1F, bytes[index + 1] == 0x8B, bytes[index + 2] == 0x08,
                let trial = try? GzipDecompressor(wholeMembers: false)
            else { continue }
            bytes[index...].withUnsafeBytes { trial.feed($0, output: { _ in }) }
            if trial.completedMembers > 0, trial.damage.first.map({ $0.offset > 0 }) ?? true { return index }
        }
        return nil
    }
}
