#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer a log directory: an exclusive `flock` on a hidden file in it (`.<base>.lock`),
/// held while a file sink runs and holding the writer's process id. Two processes appending to
/// one directory would interleave their segments, each deleting the other's under its own
/// retention and each saying it lost nothing; the second is refused instead. The kernel drops the
/// lock when its holder dies, so a crashed writer never blocks the next.
package enum DirectoryLock {
    /// What taking the lock found.
    package enum Outcome {
        /// Taken: the descriptor holds it until closed.
        case acquired(Int32)
        /// Another open file description holds it: the process id written in the file, if any.
        case heldBy(Int32?)
        /// The lock file could not be opened (the directory's own failure is reported elsewhere).
        case unavailable
    }

    /// The lock file of the sink writing `baseName` files in `directory`.
    package static func path(directory: String, baseName: String) -> String { directory + "/." + baseName + ".lock" }

    /// Takes the lock without waiting and writes this process's id into it.
    package static func acquire(_ path: String, mode: UInt32, fileSystem: some FileSystem) -> Outcome {
        guard let descriptor = try? fileSystem.open(path, flags: O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode: mode) else {
            return .unavailable
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = holderID(descriptor, path: path, fileSystem: fileSystem)
            fileSystem.close(descriptor)
            return .heldBy(holder)
        }
        let text = Array("\(getpid())\n".utf8)
        try? fileSystem.truncate(descriptor, to: 0, path: path)
        _ = text.withUnsafeBytes { try? fileSystem.write(descriptor, $0, path: path) }
        return .acquired(descriptor)
    }

    /// Whether a live writer holds the lock (checked by taking it for a moment), and its id.
    package static func holder(of path: String, fileSystem: some FileSystem = PosixFileSystem()) -> (held: Bool, pid: Int32?) {
        guard let descriptor = try? fileSystem.open(path, flags: O_RDONLY | O_CLOEXEC | O_NOFOLLOW, mode: 0) else { return (false, nil) }
        defer { fileSystem.close(descriptor) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) != 0 else {
            flock(descriptor, LOCK_UN)
            return (false, nil)
        }
        return (true, holderID(descriptor, path: path, fileSystem: fileSystem))
    }

    /// What a refused writer is told.
    package static func refusal(directory: String, holder: Int32?) -> String {
        "\(directory) is written by another process" + (holder.map { " (pid \($0))" } ?? "")
            + ": a log directory has one writer; give this one a directory of its own"
    }

    /// Gives the lock up (its file removed first, so that no one reads a stale id).
    package static func release(_ descriptor: Int32, path: String, fileSystem: some FileSystem) {
        try? fileSystem.remove(path)
        fileSystem.close(descriptor)
    }

    private static func holderID(_ descriptor: Int32, path: String, fileSystem: some FileSystem) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { (try? fileSystem.read(descriptor, into: $0, path: path)) ?? 0 }
        return Int32(String(decoding: buffer.prefix(count).filter { $0 != 0x0A }, as: UTF8.self))
    }
}
