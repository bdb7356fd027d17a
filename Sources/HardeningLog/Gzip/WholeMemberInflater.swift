#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Inflates one whole gzip member at a time with libdeflate, which is about 2.7 times as fast
/// as zlib on our logs (BENCHMARKS.md) but cannot stream: the member must be in memory and its
/// output must fit ``capacity``.
///
/// A `gzip_stream` log is one member per flush, at most 1 MiB inflated, which fits. Anything
/// this does not read whole (a member cut off by the end of the input so far, a larger member,
/// damage) it declines without a side effect, and ``GzipDecompressor`` streams it through zlib.
///
/// libdeflate is loaded when an inflater is made, from its shared library (Debian's
/// `libdeflate0`, which libtiff and most image tools pull in; `tools/setup.sh` installs it), and
/// released with it: nothing to build against, no state shared between inflaters. Without the
/// library there is no inflater and zlib reads everything, with the same results.
package final class WholeMemberInflater {
    /// What ``inflate(_:)`` found at the start of the input.
    enum Outcome {
        /// A whole, intact member of `consumed` bytes; its `produced` bytes are in ``output``.
        case member(consumed: Int, produced: Int)
        /// Not a whole intact member: cut off, damaged, or not gzip at all.
        case notWhole
        /// A member that inflates to more than ``capacity``.
        case tooLarge
    }

    /// The largest member output read whole: a `gzip_stream` flush (1 MiB) and some slack.
    package static let defaultCapacity = (1 << 20) + (64 << 10)

    /// The names the shared library is looked for under, in order.
    package static let libraryNames = ["libdeflate.so.0", "libdeflate.so", "libdeflate.0.dylib", "libdeflate.dylib"]

    // libdeflate.h (stable since 1.0; the soname has stayed .0).
    private typealias Allocate = @convention(c) () -> OpaquePointer?
    private typealias Free = @convention(c) (OpaquePointer?) -> Void
    private typealias GzipDecompress = @convention(c) (
        OpaquePointer?, UnsafeRawPointer?, Int, UnsafeMutableRawPointer?, Int, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?
    ) -> Int32
    /// `enum libdeflate_result`.
    private static let success: Int32 = 0
    private static let insufficientSpace: Int32 = 3

    private let library: UnsafeMutableRawPointer
    private let free: Free
    private let decompress: GzipDecompress
    private let decompressor: OpaquePointer
    /// The last member's inflated bytes (valid until the next call).
    let output: UnsafeMutableRawBufferPointer

    /// `nil` when libdeflate is not installed (or cannot allocate its state).
    package init?(capacity: Int = WholeMemberInflater.defaultCapacity, libraryNames: [String] = WholeMemberInflater.libraryNames) {
        guard let library = libraryNames.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
        guard let allocate = dlsym(library, "libdeflate_alloc_decompressor"), let free = dlsym(library, "libdeflate_free_decompressor"),
            let decompress = dlsym(library, "libdeflate_gzip_decompress_ex"),
            let decompressor = unsafeBitCast(allocate, to: Allocate.self)()
        else {
            dlclose(library)
            return nil
        }
        self.library = library
        self.free = unsafeBitCast(free, to: Free.self)
        self.decompress = unsafeBitCast(decompress, to: GzipDecompress.self)
        // Mapped, not malloc'd: unmapping gives the pages back when the inflater goes (malloc
        // keeps a freed megabyte in the process, and replay's peak memory is bounded).
        let mapped = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            unsafeBitCast(free, to: Free.self)(decompressor)
            dlclose(library)
            return nil
        }
        self.decompressor = decompressor
        output = UnsafeMutableRawBufferPointer(start: mapped, count: capacity)
    }

    deinit {
        free(decompressor)
        munmap(output.baseAddress, output.count)
        dlclose(library)
    }

    /// The most a member may inflate to.
    var capacity: Int { output.count }

    /// Inflates the member at the start of `input` (which may hold more after it).
    func inflate(_ input: UnsafeRawBufferPointer) -> Outcome {
        // A gzip member is at least 18 bytes (header and trailer).
        guard let base = input.baseAddress, input.count >= 18 else { return .notWhole }
        var consumed = 0
        var produced = 0
        switch decompress(decompressor, base, input.count, output.baseAddress, output.count, &consumed, &produced) {
        case Self.success: return .member(consumed: consumed, produced: produced)
        case Self.insufficientSpace: return .tooLarge
        default: return .notWhole
        }
    }
}
