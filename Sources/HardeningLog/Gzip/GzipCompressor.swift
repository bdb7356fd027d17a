internal import CZlib

/// Deflates bytes into gzip members (RFC 1952).
///
/// Each call to ``compressMember(_:into:)`` appends one complete member (header, deflate data,
/// CRC-32 and size), so a file made of such members decodes up to the last complete one even if
/// the process dies mid-write; where libdeflate is installed it makes the member, about 1.6 times
/// as fast as zlib at level 6. ``append(_:into:)`` and ``finishMember(into:)`` stream a large
/// input into one member in pieces, with zlib. Not thread-safe: one owner at a time.
public final class GzipCompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    private var scratch: [UInt8] = []
    /// Whole members with libdeflate (`nil`: zlib).
    private let whole: WholeMemberDeflater?
    /// The deflate level, 0 (store) … 9 (smallest).
    public let level: Int32

    /// Whether ``compressMember(_:into:)`` uses libdeflate.
    package var compressesWithLibdeflate: Bool { whole != nil }

    /// Creates a compressor at `level` (zlib's 0…9; 6 is zlib's and gzip's default).
    /// `wholeMembers: false` makes every member with zlib, as does a machine without libdeflate.
    public init(level: Int = 6, wholeMembers: Bool = true) throws(GzipError) {
        self.level = Int32(min(9, max(0, level)))
        whole = wholeMembers ? WholeMemberDeflater(level: self.level) : nil
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let result = czlib_deflateInit2(stream, self.level, 15 + 16)
        guard result == Z_OK else {
            stream.deallocate()
            throw GzipError(code: result, message: "deflateInit2 failed")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Appends `input` compressed as one whole gzip member to `output`.
    public func compressMember(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        if let whole { return whole.compressMember(input, into: &output) }
        run(input, flush: Z_FINISH, into: &output)
        deflateReset(stream)
    }

    /// Appends `input` compressed as one whole gzip member to `output`.
    public func compressMember(_ input: [UInt8], into output: inout [UInt8]) {
        input.withUnsafeBytes { compressMember($0, into: &output) }
    }

    /// Feeds part of a member; compressed bytes may be appended to `output`.
    public func append(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        run(input, flush: Z_NO_FLUSH, into: &output)
    }

    /// Ends the member begun by ``append(_:into:)``.
    public func finishMember(into output: inout [UInt8]) {
        run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, into: &output)
        deflateReset(stream)
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32, into output: inout [UInt8]) {
        let bound = Int(deflateBound(stream, uLong(input.count))) + 64
        if scratch.count < min(bound, 256 << 10) { scratch = [UInt8](repeating: 0, count: min(max(bound, 16 << 10), 256 << 10)) }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        scratch.withUnsafeMutableBufferPointer { buffer in
            while true {
                stream.pointee.next_out = buffer.baseAddress
                stream.pointee.avail_out = uInt(buffer.count)
                let result = deflate(stream, flush)
                let produced = buffer.count - Int(stream.pointee.avail_out)
                if produced > 0 { output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<produced])) }
                if flush == Z_FINISH {
                    if result == Z_STREAM_END { break }
                } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                    break
                }
                if result != Z_OK && result != Z_BUF_ERROR { break }
            }
        }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
    }
}
