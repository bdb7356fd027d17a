import Hardening

/// How many lines and bytes (uncompressed, newline included) the events of one kind take in the
/// input: what a log pipeline ships and bills for, per kind (`replay`'s "Volume" table and its
/// JSON `input.volume`).
package struct KindVolume: Sendable, Hashable {
    /// Lines of the kind.
    package var lines: Int64 = 0
    /// Their bytes.
    package var bytes: Int64 = 0

    package init(lines: Int64 = 0, bytes: Int64 = 0) {
        self.lines = lines
        self.bytes = bytes
    }

    /// Adds one line of `bytes` bytes (its newline included).
    mutating func add(lineOf bytes: Int) {
        lines += 1
        self.bytes += Int64(bytes)
    }

    mutating func add(_ other: KindVolume) {
        lines.saturatingAdd(other.lines)
        bytes.saturatingAdd(other.bytes)
    }

    var json: AttributeValue { .object(["lines": .int(lines), "bytes": .int(bytes)]) }
}

extension [String: KindVolume] {
    mutating func add(_ other: [String: KindVolume]) {
        for (kind, volume) in other { self[kind, default: KindVolume()].add(volume) }
    }

    /// Every kind's lines and bytes, kinds sorted.
    var json: AttributeValue {
        .object(Attributes(uniqueKeysWithValues: sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }))
    }
}
