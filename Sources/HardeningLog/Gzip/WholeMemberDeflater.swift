/// Compresses one whole gzip member at a time with libdeflate: at the same level about 1.6 times
/// as fast as zlib at level 6 and a little smaller (BENCHMARKS.md), a standard member that `zcat`
/// and every gzip reader take. ``GzipCompressor/compressMember(_:into:)`` uses it where libdeflate
/// is installed (``LibdeflateLibrary``); streaming a member in pieces stays with zlib.
final class WholeMemberDeflater {
    // libdeflate.h (stable since 1.0).
    private typealias Allocate = @convention(c) (Int32) -> OpaquePointer?
    private typealias Free = @convention(c) (OpaquePointer?) -> Void
    private typealias Bound = @convention(c) (OpaquePointer?, Int) -> Int
    private typealias GzipCompress = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int, UnsafeMutableRawPointer?, Int) -> Int

    private let library: LibdeflateLibrary
    private let free: Free
    private let bound: Bound
    private let compress: GzipCompress
    private let compressor: OpaquePointer

    /// A compressor at `level` (0 … 9, the scale zlib's levels have; libdeflate's goes on to 12);
    /// `nil` when libdeflate is not installed.
    init?(level: Int32, library: LibdeflateLibrary? = LibdeflateLibrary()) {
        guard let library, let allocate = library.function("libdeflate_alloc_compressor", as: Allocate.self),
            let free = library.function("libdeflate_free_compressor", as: Free.self),
            let bound = library.function("libdeflate_gzip_compress_bound", as: Bound.self),
            let compress = library.function("libdeflate_gzip_compress", as: GzipCompress.self),
            let compressor = allocate(level)
        else { return nil }
        self.library = library
        self.free = free
        self.bound = bound
        self.compress = compress
        self.compressor = compressor
    }

    deinit {
        free(compressor)
    }

    /// Appends `input` compressed as one gzip member to `output`.
    func compressMember(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let start = output.count
        let room = bound(compressor, input.count)
        output.append(contentsOf: repeatElement(0, count: room))
        let written = output.withUnsafeMutableBytes { buffer in
            compress(compressor, input.baseAddress, input.count, buffer.baseAddress! + start, room)
        }
        // The bound is libdeflate's own worst case: a member always fits in it.
        precondition(written > 0, "libdeflate_gzip_compress found no room within its own bound")
        output.removeLast(room - written)
    }
}
