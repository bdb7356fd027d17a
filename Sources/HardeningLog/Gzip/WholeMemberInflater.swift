/// Inflates one whole gzip member at a time with libdeflate, which is about 2.4 times as fast
/// as zlib on our logs (BENCHMARKS.md) but cannot stream: the member must be in memory and its
/// output must fit ``capacity``.
///
/// A `gzip_stream` log is one member per flush, at most 1 MiB inflated, which fits. Anything
/// this does not read whole (a member cut off by the end of the input so far, a larger member,
/// damage) it declines without a side effect, and ``GzipDecompressor`` streams it through zlib.
///
/// libdeflate is loaded when an inflater is made (``LibdeflateLibrary``); without it there is
/// no inflater and zlib reads everything, with the same results.
package final class WholeMemberInflater {
    /// What ``inflate(_:)`` found at the start of the input.
    enum Outcome {
        /// A whole, intact member of `consumed` bytes; its `produced` bytes are in ``output``.
        case member(consumed: Int, produced: Int)
        /// Not a whole intact member: cut off, damaged, or not gzip at all.
        case notWhole
        /// A member that inflates to more than ``capacity``.
        case tooLarge
        /// A member whose header carries its own CRC (FHCRC): libdeflate skips that CRC where
        /// zlib checks it, so zlib reads such a member (our writers never set the flag).
        case headerCRC
    }

    /// The largest member output read whole: a `gzip_stream` flush (1 MiB) and some slack.
    package static let defaultCapacity = (1 << 20) + (64 << 10)

    // libdeflate.h (stable since 1.0; the soname has stayed .0).
    private typealias Allocate = @convention(c) () -> OpaquePointer?
    private typealias Free = @convention(c) (OpaquePointer?) -> Void
    private typealias GzipDecompress = @convention(c) (
        OpaquePointer?, UnsafeRawPointer?, Int, UnsafeMutableRawPointer?, Int, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?
    ) -> Int32
    /// `enum libdeflate_result`.
    private static let success: Int32 = 0
    private static let insufficientSpace: Int32 = 3

    private let library: LibdeflateLibrary
    private let free: Free
    private let decompress: GzipDecompress
    private let decompressor: OpaquePointer
    private let buffer: MappedBuffer
    /// The last member's inflated bytes (valid until the next call).
    var output: UnsafeMutableRawBufferPointer { buffer.bytes }

    /// `nil` when libdeflate is not installed (or cannot allocate its state).
    package init?(capacity: Int = WholeMemberInflater.defaultCapacity, library: LibdeflateLibrary? = LibdeflateLibrary()) {
        guard let library, let allocate = library.function("libdeflate_alloc_decompressor", as: Allocate.self),
            let free = library.function("libdeflate_free_decompressor", as: Free.self),
            let decompress = library.function("libdeflate_gzip_decompress_ex", as: GzipDecompress.self),
            let buffer = MappedBuffer(byteCount: capacity)
        else { return nil }
        guard let decompressor = allocate() else {
            buffer.unmap()
            return nil
        }
        self.library = library
        self.free = free
        self.decompress = decompress
        self.decompressor = decompressor
        self.buffer = buffer
    }

    deinit {
        free(decompressor)
        buffer.unmap()
    }

    /// The most a member may inflate to.
    var capacity: Int { output.count }

    /// Inflates the member at the start of `input` (which may hold more after it).
    func inflate(_ input: UnsafeRawBufferPointer) -> Outcome {
        // A gzip member is at least 18 bytes (header and trailer).
        guard let base = input.baseAddress, input.count >= 18 else { return .notWhole }
        if input[0] == 0x1F, input[1] == 0x8B, input[3] & 0x02 != 0 { return .headerCRC }
        var consumed = 0
        var produced = 0
        switch decompress(decompressor, base, input.count, output.baseAddress, output.count, &consumed, &produced) {
        case Self.success: return .member(consumed: consumed, produced: produced)
        case Self.insufficientSpace: return .tooLarge
        default: return .notWhole
        }
    }
}
