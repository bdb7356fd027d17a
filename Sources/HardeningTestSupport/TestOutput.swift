import HardeningTestKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where tests leave event files for the schema check that runs after them.
///
/// When `HARDENING_TEST_OUTPUT` is set (by `.ci/run`), ``directory(named:)`` makes a
/// fresh directory under it and keeps it, so that `tools/schema/check_events.py` validates what
/// the tests wrote. Otherwise it is a temporary directory that ``Directory/finish()`` removes.
public enum TestOutput {
    /// A directory for one test's files.
    public struct Directory: Sendable {
        /// Its path.
        public let path: String
        let temporary: TemporaryDirectory?

        /// Removes the directory unless it is kept for the schema check.
        public func finish() { temporary?.remove() }
    }

    /// A fresh directory for a test's valid event files.
    public static func directory(named name: String) -> Directory {
        if let root = getenv("HARDENING_TEST_OUTPUT").map({ String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)).bindMemory(to: UInt8.self), as: UTF8.self) }), !root.isEmpty {
            _ = mkdir(root, 0o750)  // the first test to run makes the root
            for counter in 0..<10_000 {
                let path = "\(root)/\(name)-\(getpid())-\(counter)"
                if mkdir(path, 0o750) == 0 { return Directory(path: path, temporary: nil) }
                guard errno == EEXIST else { break }
            }
            preconditionFailure("HARDENING_TEST_OUTPUT=\(root): cannot make a directory there (errno \(errno))")
        }
        let temporary = TemporaryDirectory(prefix: name)
        return Directory(path: temporary.path, temporary: temporary)
    }
}
