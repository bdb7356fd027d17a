#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A log shipper in miniature, for tests of how files are laid out: it follows every file of a
/// directory whose name matches a glob (`events-*.jsonl`), each from its start, keeping one read
/// offset per file name, as Vector's file source, Fluent Bit's tail input or rsyslog's imfile with
/// a wildcard do. Only whole lines are taken; a file that disappears before it was read to its
/// end loses the rest (what a real tailer would lose).
///
/// Each ``step()`` reads one file only (the oldest with unread bytes), so a caller that sleeps
/// between steps makes a tailer that lags any number of files behind the writer.
public struct GlobTailer: Sendable {
    /// The directory followed.
    public let directory: String
    /// The `fnmatch(3)` pattern of the names followed.
    public let pattern: String
    /// The whole lines read so far, without their newlines, in reading order.
    public private(set) var lines: [String] = []
    /// The most files seen at once with unread bytes (how far behind the tailer fell).
    public private(set) var maxFilesBehind = 0
    /// Files that vanished before they were read to their end.
    public private(set) var vanished: [String] = []
    private var offsets: [String: Int] = [:]
    private var sizes: [String: Int] = [:]
    private var partial: [String: [UInt8]] = [:]

    /// Follows the names in `directory` that match `pattern`.
    public init(directory: String, pattern: String = "events-*.jsonl") {
        self.directory = directory
        self.pattern = pattern
    }

    /// Lists the directory again and reads the new bytes of the oldest file (by name) that has
    /// any. Returns whether it read anything.
    @discardableResult
    public mutating func step() -> Bool {
        let names = matchingNames()
        for (name, size) in sizes where !names.contains(name) {
            if size > offsets[name, default: 0] || partial[name]?.isEmpty == false { vanished.append(name) }
            sizes[name] = nil
            offsets[name] = nil
            partial[name] = nil
        }
        var behind = 0
        var next: String?
        for name in names {
            let size = size(of: name)
            sizes[name] = size
            if size > offsets[name, default: 0] {
                behind += 1
                if next == nil { next = name }
            }
        }
        maxFilesBehind = max(maxFilesBehind, behind)
        guard let next else { return false }
        read(next)
        return true
    }

    /// Steps until nothing is left to read.
    public mutating func catchUp() {
        while step() {}
    }

    private func matchingNames() -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.bindMemory(to: UInt8.self).prefix { $0 != 0 }, as: UTF8.self)
            }
            if fnmatch(pattern, name, 0) == 0 { names.append(name) }
        }
        return names.sorted()
    }

    private func size(of name: String) -> Int {
        var status = stat()
        guard stat(directory + "/" + name, &status) == 0 else { return 0 }
        return Int(status.st_size)
    }

    private mutating func read(_ name: String) {
        let descriptor = open(directory + "/" + name, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var offset = offsets[name, default: 0]
        var pending = partial[name, default: []]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            if count <= 0 { break }
            offset += count
            for byte in buffer[0..<count] {
                if byte == 0x0A {
                    lines.append(String(decoding: pending, as: UTF8.self))
                    pending.removeAll(keepingCapacity: true)
                } else {
                    pending.append(byte)
                }
            }
        }
        offsets[name] = offset
        partial[name] = pending
    }
}
