#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file system call failed.
public struct FileSystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public var code: Int32
    /// The call that failed (`open`, `write`, `rename`, …).
    public var operation: String
    /// The path involved.
    public var path: String

    /// Creates the error.
    public init(code: Int32, operation: String, path: String) {
        self.code = code
        self.operation = operation
        self.path = path
    }

    /// The system's text for the error code.
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(operation) \(path): \(reason) (errno \(code))" }
}
