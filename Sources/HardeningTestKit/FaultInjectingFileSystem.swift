#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening
import HardeningLog

/// Wraps a real file system and makes chosen calls fail, for tests of sink failure and recovery.
public final class FaultInjectingFileSystem: FileSystem {
    /// What writes do.
    public enum WriteFault: Sendable, Hashable {
        /// Writes work.
        case none
        /// Every write fails with this errno (`ENOSPC`, `EACCES`, `EIO`, …).
        case fail(errno: Int32)
        /// Each write writes only this many bytes and reports success (a short write); the
        /// following write (the writer continuing) fails with `errno`.
        case shortThenFail(bytes: Int, errno: Int32)
    }

    private struct State {
        var writeFault = WriteFault.none
        var failRenames: Int32?
        var failOpens: Int32?
        var failOpensSuffix: String?
        var failOnlyCreating = false
        var writes = 0
        var syncs = 0
        var shortPending = false
        var failedWrites = 0
    }

    private let base: any FileSystem
    private let state = Locked(State())

    /// Wraps `base` (the real file system by default).
    public init(base: any FileSystem = PosixFileSystem()) { self.base = base }

    /// Sets what writes do from now on.
    public func setWriteFault(_ fault: WriteFault) { state.withLock { $0.writeFault = fault } }
    /// Makes renames fail with `errno` (or work again with `nil`).
    public func setRenameFault(_ errno: Int32?) { state.withLock { $0.failRenames = errno } }
    /// Makes opens fail with `errno` (or work again with `nil`); only of paths ending with
    /// `suffix` when one is given (`".gz.tmp"`: compressions fail, the sink's own files do not);
    /// with `onlyCreating`, only opens that create a file and new symbolic links (a file system
    /// out of inodes: `ENOSPC` for a new file while existing files still grow).
    public func setOpenFault(_ errno: Int32?, forPathsEndingWith suffix: String? = nil, onlyCreating: Bool = false) {
        state.withLock {
            $0.failOpens = errno
            $0.failOpensSuffix = suffix
            $0.failOnlyCreating = onlyCreating
        }
    }
    /// Writes attempted so far.
    public var writeCount: Int { state.withLock { $0.writes } }
    /// `fsync` calls on files (not directories) so far.
    public var syncCount: Int { state.withLock { $0.syncs } }
    /// Writes that were made to fail.
    public var failedWriteCount: Int { state.withLock { $0.failedWrites } }

    public func open(_ path: String, flags: Int32, mode: UInt32) throws(FileSystemError) -> Int32 {
        let (code, suffix, onlyCreating) = state.withLock { ($0.failOpens, $0.failOpensSuffix, $0.failOnlyCreating) }
        if let code, suffix.map({ path.hasSuffix($0) }) ?? true, !onlyCreating || flags & O_CREAT != 0 {
            throw FileSystemError(code: code, operation: "open", path: path)
        }
        return try base.open(path, flags: flags, mode: mode)
    }

    public func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileSystemError) -> Int {
        let (fault, failNow) = state.withLock { state -> (WriteFault, Bool) in
            state.writes += 1
            if state.writeFault != .none { state.failedWrites += 1 }
            if case .shortThenFail = state.writeFault {
                state.shortPending.toggle()
                return (state.writeFault, !state.shortPending)
            }
            return (state.writeFault, false)
        }
        switch fault {
        case .none:
            return try base.write(descriptor, bytes, path: path)
        case .fail(let code):
            throw FileSystemError(code: code, operation: "write", path: path)
        case .shortThenFail(_, let code) where failNow:
            throw FileSystemError(code: code, operation: "write", path: path)
        case .shortThenFail(let count, _):
            let limited = UnsafeRawBufferPointer(rebasing: bytes[0..<min(count, bytes.count)])
            return try base.write(descriptor, limited, path: path)
        }
    }

    public func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(FileSystemError) -> Int {
        try base.read(descriptor, into: buffer, path: path)
    }
    public func sync(_ descriptor: Int32, path: String) throws(FileSystemError) {
        state.withLock { $0.syncs += 1 }
        try base.sync(descriptor, path: path)
    }
    public func truncate(_ descriptor: Int32, to length: Int64, path: String) throws(FileSystemError) {
        try base.truncate(descriptor, to: length, path: path)
    }
    public func changeMode(_ descriptor: Int32, _ mode: UInt32, path: String) throws(FileSystemError) {
        try base.changeMode(descriptor, mode, path: path)
    }
    public func close(_ descriptor: Int32) { base.close(descriptor) }
    public func rename(_ from: String, to: String) throws(FileSystemError) {
        if let code = state.withLock({ $0.failRenames }) { throw FileSystemError(code: code, operation: "rename", path: from) }
        try base.rename(from, to: to)
    }
    public func makeSymbolicLink(_ target: String, at path: String) throws(FileSystemError) {
        if let code = state.withLock({ $0.failOnlyCreating ? $0.failOpens : nil }) {
            throw FileSystemError(code: code, operation: "symlink", path: path)
        }
        try base.makeSymbolicLink(target, at: path)
    }
    public func remove(_ path: String) throws(FileSystemError) { try base.remove(path) }
    public func info(_ path: String) throws(FileSystemError) -> FileInfo? { try base.info(path) }
    public func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] { try base.contentsOfDirectory(path) }
    public func makeDirectory(_ path: String, mode: UInt32) throws(FileSystemError) { try base.makeDirectory(path, mode: mode) }
    public func syncDirectory(_ path: String) throws(FileSystemError) { try base.syncDirectory(path) }
}
