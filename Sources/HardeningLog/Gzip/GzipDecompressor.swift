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
/// Feed the input in chunks with ``feed(_:output:)``; inflated bytes come out through the
/// callback. Corrupt data (a bad CRC, an invalid deflate block, garbage between members) is
/// reported with its input offset, and decoding resumes at the next gzip header found after it.
/// ``finish()`` reports a member cut short (a torn tail) from one that simply ended.
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
    private var scratch = [UInt8](repeating: 0, count: 256 << 10)
    private var consumed: Int64 = 0
    private var memberStart: Int64 = 0
    private var insideMember = false
    private var resyncing = false
    /// Members decoded completely so far.
    public private(set) var completedMembers = 0
    /// Damage found so far.
    public private(set) var damage: [Damage] = []

    /// Creates a decompressor.
    public init() throws(GzipError) {
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
    public func feed(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) -> Void,
                     damaged: (Damage) -> Void = { _ in }) {
        guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var position = 0
        let count = input.count
        // Where the current member began in this chunk, to rewind to on corruption: a damaged
        // member can swallow the header of the next one before zlib notices.
        var memberStartPosition: Int? = insideMember ? nil : 0
        while position < count {
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
                    return
                }
                consumed += Int64(found - position)
                position = found
                resyncing = false
                inflateReset(stream)
            }
            if !insideMember {
                insideMember = true
                memberStart = consumed
                memberStartPosition = position
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
                    if produced > 0 { output(UnsafeRawBufferPointer(rebasing: buffer[0..<produced])) }
                } while result == Z_OK && stream.pointee.avail_out == 0
            }
            let used = (count - position) - Int(stream.pointee.avail_in)
            position += used
            consumed += Int64(used)
            switch result {
            case Z_STREAM_END:
                completedMembers += 1
                insideMember = false
                inflateReset(stream)
            case Z_OK, Z_BUF_ERROR:
                if used == 0 && stream.pointee.avail_in > 0 {
                    // No progress with input left: treat as corruption to guarantee termination.
                    damaged(fail(at: memberStart, "inflate made no progress"))
                    position += 1
                    consumed += 1
                }
            default:
                let reason = stream.pointee.msg.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)).bindMemory(to: UInt8.self), as: UTF8.self) } ?? "zlib error \(result)"
                damaged(fail(at: memberStart, reason))
                // Resume the search one byte past the start of the damaged member.
                if let start = memberStartPosition, start < position {
                    consumed -= Int64(position - start - 1)
                    position = start + 1
                } else if used == 0 {
                    position += 1
                    consumed += 1
                }
            }
        }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
    }

    private func fail(at offset: Int64, _ reason: String) -> Damage {
        let found = Damage(offset: offset, reason: reason, isTruncation: false)
        damage.append(found)
        defer { inflateReset(stream) }
        insideMember = false
        resyncing = true
        return found
    }

    /// Ends the input. Returns the torn tail, if the input ended inside a member.
    @discardableResult
    public func finish() -> Damage? {
        guard insideMember, consumed > memberStart || stream.pointee.total_in > 0 else {
            insideMember = false
            return nil
        }
        insideMember = false
        let tail = Damage(offset: memberStart, reason: "input ends inside a gzip member (torn tail)", isTruncation: true)
        damage.append(tail)
        inflateReset(stream)
        return tail
    }
}
