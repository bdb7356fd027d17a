#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// The real file system, through POSIX calls, retrying on `EINTR`.
public struct PosixFileSystem: FileSystem {
    /// Creates it.
    public init() {}

    public func open(_ path: String, flags: Int32, mode: UInt32) throws(FileSystemError) -> Int32 {
        while true {
            let descriptor = SystemCalls.open(path, flags | O_CLOEXEC, mode_t(mode))
            if descriptor >= 0 { return descriptor }
            if errno != EINTR { throw FileSystemError(code: errno, operation: "open", path: path) }
        }
    }

    public func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileSystemError) -> Int {
        guard bytes.count > 0 else { return 0 }
        while true {
            let written = SystemCalls.write(descriptor, bytes.baseAddress, bytes.count)
            if written >= 0 { return written }
            if errno != EINTR { throw FileSystemError(code: errno, operation: "write", path: path) }
        }
    }

    public func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(FileSystemError) -> Int {
        while true {
            let count = SystemCalls.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw FileSystemError(code: errno, operation: "read", path: path) }
        }
    }

    public func sync(_ descriptor: Int32, path: String) throws(FileSystemError) {
        if fsync(descriptor) != 0 && errno != EINVAL { throw FileSystemError(code: errno, operation: "fsync", path: path) }
    }

    public func truncate(_ descriptor: Int32, to length: Int64, path: String) throws(FileSystemError) {
        if ftruncate(descriptor, off_t(length)) != 0 { throw FileSystemError(code: errno, operation: "ftruncate", path: path) }
    }

    public func changeMode(_ descriptor: Int32, _ mode: UInt32, path: String) throws(FileSystemError) {
        if fchmod(descriptor, mode_t(mode)) != 0 { throw FileSystemError(code: errno, operation: "fchmod", path: path) }
    }

    public func close(_ descriptor: Int32) {
        SystemCalls.close(descriptor)
    }

    public func rename(_ from: String, to: String) throws(FileSystemError) {
        if SystemCalls.rename(from, to) != 0 { throw FileSystemError(code: errno, operation: "rename", path: "\(from) -> \(to)") }
    }

    public func makeSymbolicLink(_ target: String, at path: String) throws(FileSystemError) {
        if symlink(target, path) != 0 { throw FileSystemError(code: errno, operation: "symlink", path: path) }
    }

    public func remove(_ path: String) throws(FileSystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw FileSystemError(code: errno, operation: "unlink", path: path) }
    }

    public func info(_ path: String) throws(FileSystemError) -> FileInfo? {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw FileSystemError(code: errno, operation: "lstat", path: path)
        }
        let type = status.st_mode & S_IFMT
        let modified = Int64(status.st_mtim.tv_sec) * 1_000_000 + Int64(status.st_mtim.tv_nsec) / 1000
        return FileInfo(size: Int64(status.st_size), modified: Timestamp(microsecondsSinceEpoch: modified),
                        isSymbolicLink: type == S_IFLNK, isRegularFile: type == S_IFREG, isDirectory: type == S_IFDIR,
                        permissions: UInt32(status.st_mode & 0o7777))
    }

    public func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else { throw FileSystemError(code: errno, operation: "opendir", path: path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.bindMemory(to: UInt8.self)
                let length = bytes.firstIndex(of: 0) ?? bytes.count
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<length]), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A directory the user names may be, or sit below, a symbolic link (`/var/log/app -> /data/log`,
    /// macOS's `/tmp`): existing directories are followed. Files the sink creates in it are still
    /// opened without following a link.
    public func makeDirectory(_ path: String, mode: UInt32) throws(FileSystemError) {
        var status = stat()
        if stat(path, &status) == 0 {
            if status.st_mode & S_IFMT == S_IFDIR { return }
            throw FileSystemError(code: ENOTDIR, operation: "mkdir (a file is in the way)", path: path)
        }
        if errno != ENOENT { throw FileSystemError(code: errno, operation: "stat", path: path) }
        if let dangling = try info(path), dangling.isSymbolicLink {
            throw FileSystemError(code: ENOENT, operation: "mkdir (a symbolic link to nothing is in the way)", path: path)
        }
        let parent = PosixFileSystem.parent(of: path)
        if parent != path, !parent.isEmpty { try makeDirectory(parent, mode: mode) }
        if mkdir(path, mode_t(mode)) != 0 && errno != EEXIST {
            throw FileSystemError(code: errno, operation: "mkdir", path: path)
        }
    }

    public func syncDirectory(_ path: String) throws(FileSystemError) {
        let descriptor = try open(path, flags: O_RDONLY | O_DIRECTORY, mode: 0)
        defer { close(descriptor) }
        try sync(descriptor, path: path)
    }

    /// The directory part of a path (`.` for a bare name).
    package static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }
}
