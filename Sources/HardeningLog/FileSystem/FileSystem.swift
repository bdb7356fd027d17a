#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// What a file sink needs of the file system, so that tests can inject faults
/// (`HardeningTestKit.FaultInjectingFileSystem`). ``PosixFileSystem`` is the real one.
public protocol FileSystem: Sendable {
    /// Opens `path` (`open(2)` flags and mode) and returns a descriptor.
    func open(_ path: String, flags: Int32, mode: UInt32) throws(FileSystemError) -> Int32
    /// Writes as much of `bytes` as it can; returns the count written (possibly short).
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileSystemError) -> Int
    /// Reads up to `buffer.count` bytes; returns 0 at end of file.
    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(FileSystemError) -> Int
    /// `fsync(2)`.
    func sync(_ descriptor: Int32, path: String) throws(FileSystemError)
    /// Cuts the file to `length` bytes.
    func truncate(_ descriptor: Int32, to length: Int64, path: String) throws(FileSystemError)
    /// Sets the file's permission bits.
    func changeMode(_ descriptor: Int32, _ mode: UInt32, path: String) throws(FileSystemError)
    /// `close(2)`.
    func close(_ descriptor: Int32)
    /// `rename(2)`.
    func rename(_ from: String, to: String) throws(FileSystemError)
    /// `symlink(2)`: creates `path` as a symbolic link whose content is `target`.
    func makeSymbolicLink(_ target: String, at path: String) throws(FileSystemError)
    /// `unlink(2)`.
    func remove(_ path: String) throws(FileSystemError)
    /// `lstat(2)`; `nil` if nothing is there.
    func info(_ path: String) throws(FileSystemError) -> FileInfo?
    /// The names in a directory (without `.` and `..`).
    func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String]
    /// Creates a directory and its missing parents.
    func makeDirectory(_ path: String, mode: UInt32) throws(FileSystemError)
    /// fsyncs a directory, so that renames and creations in it are durable.
    func syncDirectory(_ path: String) throws(FileSystemError)
}

/// What `lstat` says of a path.
public struct FileInfo: Hashable, Sendable {
    /// Size in bytes.
    public var size: Int64
    /// Last modification, UTC.
    public var modified: Timestamp
    /// Whether it is a symbolic link.
    public var isSymbolicLink: Bool
    /// Whether it is a regular file.
    public var isRegularFile: Bool
    /// Whether it is a directory.
    public var isDirectory: Bool
    /// The permission bits.
    public var permissions: UInt32

    /// Creates the info.
    public init(size: Int64, modified: Timestamp, isSymbolicLink: Bool, isRegularFile: Bool, isDirectory: Bool, permissions: UInt32) {
        self.size = size
        self.modified = modified
        self.isSymbolicLink = isSymbolicLink
        self.isRegularFile = isRegularFile
        self.isDirectory = isDirectory
        self.permissions = permissions
    }
}

extension FileSystem {
    /// Reads the next bytes of `descriptor` into `chunk`; 0 at the end.
    func read(_ descriptor: Int32, into chunk: inout [UInt8], path: String) throws(FileSystemError) -> Int {
        try chunk.withUnsafeMutableBytes { buffer in
            Swift.Result { () throws(FileSystemError) in try read(descriptor, into: buffer, path: path) }
        }.get()
    }

    /// Reads at most `limit` next bytes of `descriptor` into `chunk` (all it holds when `nil`).
    func read(_ descriptor: Int32, into chunk: inout [UInt8], limit: Int64?, path: String) throws(FileSystemError) -> Int {
        guard let limit else { return try read(descriptor, into: &chunk, path: path) }
        guard limit > 0 else { return 0 }
        let count = Int(min(Int64(chunk.count), limit))
        return try chunk.withUnsafeMutableBytes { buffer in
            Swift.Result { () throws(FileSystemError) in
                try read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), path: path)
            }
        }.get()
    }

    /// Moves the read position of `descriptor` to `offset` (`lseek(2)`).
    func seek(_ descriptor: Int32, to offset: Int64, path: String) throws(FileSystemError) {
        guard lseek(descriptor, off_t(offset), SEEK_SET) >= 0 else { throw FileSystemError(code: errno, operation: "lseek", path: path) }
    }
}

extension FileSystem {
    /// The whole file as text (invalid UTF-8 repaired), for configuration and `.env` files;
    /// refuses files larger than `limit` bytes.
    public func readText(_ path: String, limit: Int = 16 << 20) throws(FileSystemError) -> String {
        let descriptor = try open(path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try read(descriptor, into: &chunk, path: path)
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > limit { throw FileSystemError(code: EFBIG, operation: "read", path: path) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
