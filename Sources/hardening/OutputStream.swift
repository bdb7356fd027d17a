#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// Buffered output to a file descriptor (standard output, or a file given with `--output`),
/// without Foundation. A closed pipe (`| head`) ends the output quietly.
final class OutputStream {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private(set) var failed: Int32?

    init(descriptor: Int32 = 1) {
        self.descriptor = descriptor
        self.ownsDescriptor = false
        buffer.reserveCapacity(1 << 16)
    }

    /// Opens (creates or truncates) `path` for writing.
    init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutputError(path: path, code: errno) }
        self.descriptor = descriptor
        self.ownsDescriptor = true
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        defer { buffer.removeAll(keepingCapacity: true) }
        guard failed == nil else { return }
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = SystemCalls.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failed = errno
                    return
                }
                offset += written
            }
        }
    }

    func close() {
        flush()
        if ownsDescriptor { SystemCalls.close(descriptor) }
    }
}

/// A file could not be opened.
struct OutputError: Error, CustomStringConvertible {
    var path: String
    var code: Int32
    var verb = "write"

    var description: String { "cannot \(verb) \(path): \(String(cString: strerror(code)))" }
}
