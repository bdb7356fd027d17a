#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a large file can be cut so that two readers can each take one part: at a gzip member's
/// first byte (a gzip-stream file has one member a flush, and each begins a line), or, in a plain
/// file, after a newline.
enum FileCut {
    /// An offset at or after `offset` (within `window` bytes) where `path` can be cut, or `nil`.
    /// A gzip cut is verified by inflating the member's start: a `1f 8b 08` that is only a
    /// coincidence inside compressed data does not inflate to the start of a JSON line.
    static func find(in path: String, fileSystem: any FileSystem, compressed: Bool, from offset: Int64,
                     window: Int = 2 << 20) -> Int64? {
        guard let descriptor = try? fileSystem.open(path, flags: O_RDONLY, mode: 0) else { return nil }
        defer { fileSystem.close(descriptor) }
        guard (try? fileSystem.seek(descriptor, to: offset, path: path)) != nil else { return nil }
        var bytes = [UInt8](repeating: 0, count: window)
        var filled = 0
        while filled < window {
            let count = bytes.withUnsafeMutableBytes { buffer in
                (try? fileSystem.read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), path: path)) ?? 0
            }
            if count <= 0 { break }
            filled += count
        }
        return bytes.withUnsafeBufferPointer { buffer -> Int64? in
            let view = UnsafeBufferPointer(rebasing: buffer[0..<filled])
            let found = compressed ? memberStart(in: view) : lineStart(in: view)
            return found.map { offset + Int64($0) }
        }
    }

    /// The first position after a newline.
    private static func lineStart(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let newline = bytes.firstIndex(of: 0x0A), newline + 1 < bytes.count else { return nil }
        return newline + 1
    }

    /// The first gzip header whose member inflates, without damage, to text that starts a JSON
    /// object line.
    private static func memberStart(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        while index + 10 < bytes.count {
            defer { index += 1 }
            // Magic, deflate, and no reserved flag bits.
            guard bytes[index] == 0x1F, bytes[index + 1] == 0x8B, bytes[index + 2] == 0x08, bytes[index + 3] & 0xE0 == 0 else { continue }
            // Streaming: a member longer than the sample still shows how it starts.
            guard let decompressor = try? GzipDecompressor(wholeMembers: false) else { return nil }
            var output: [UInt8] = []
            var damaged = false
            let sample = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[index..<min(bytes.count, index + (64 << 10))]))
            decompressor.feed(sample, output: { piece in
                if output.count < 4096 { output.append(contentsOf: piece.prefix(4096 - output.count)) }
            }, damaged: { _ in damaged = true })
            if !damaged, output.first == UInt8(ascii: "{"), output.contains(0x0A) || decompressor.completedMembers > 0 {
                return index
            }
        }
        return nil
    }
}
