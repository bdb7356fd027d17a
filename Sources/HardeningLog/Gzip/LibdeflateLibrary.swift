#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// libdeflate's shared library, opened for one user and closed with it: nothing to build
/// against and no state shared between users. Debian's `libdeflate0` (which libtiff and most
/// image tools pull in; `tools/setup.sh` installs it) provides it; without it there is no
/// library and zlib does the work, with the same results.
package final class LibdeflateLibrary {
    /// The names the library is looked for under, in order (its soname has stayed `.0` since 1.0).
    package static let names = ["libdeflate.so.0", "libdeflate.so", "libdeflate.0.dylib", "libdeflate.dylib"]

    private let handle: UnsafeMutableRawPointer

    /// `nil` when none of `names` loads.
    package init?(names: [String] = LibdeflateLibrary.names) {
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
        self.handle = handle
    }

    deinit {
        dlclose(handle)
    }

    /// The function `name` as `type` (a `@convention(c)` function type matching libdeflate.h).
    func function<Function>(_ name: String, as type: Function.Type) -> Function? {
        dlsym(handle, name).map { unsafeBitCast($0, to: type) }
    }
}

/// A page-aligned buffer mapped for one owner: unmapping gives the pages back at once (malloc
/// keeps a freed megabyte in the process, and replay's peak memory is bounded).
struct MappedBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    /// `nil` when the memory cannot be mapped.
    init?(byteCount: Int) {
        let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { return nil }
        bytes = UnsafeMutableRawBufferPointer(start: mapped, count: byteCount)
    }

    func unmap() {
        munmap(bytes.baseAddress, bytes.count)
    }
}
