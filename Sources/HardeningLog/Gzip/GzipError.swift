/// zlib refused to start or failed in a way no input explains (out of memory, bad level).
public struct GzipError: Error, Hashable, Sendable, CustomStringConvertible {
    /// zlib's return code.
    public var code: Int32
    /// What failed.
    public var message: String

    /// Creates the error.
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "gzip: \(message) (zlib code \(code))" }
}
