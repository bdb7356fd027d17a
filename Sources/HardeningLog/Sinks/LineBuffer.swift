import Hardening

/// Encoded lines waiting to be written, with where each ends and its event's `seq`, so that the
/// file sink can write whole-line chunks, keep the oldest lines on failure, and name the first
/// `seq` of a new file.
struct LineBuffer {
    private(set) var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var seqs: [UInt64] = []
    private var start = 0

    init(reservingBytes capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Lines waiting.
    var count: Int { ends.count - start }
    /// Bytes waiting.
    var byteCount: Int { bytes.count }
    var isEmpty: Bool { count == 0 }
    /// The `seq` of the oldest waiting line.
    var firstSeq: UInt64? { isEmpty ? nil : seqs[start] }

    mutating func append(_ event: Event, encoder: JSONLineEncoder) {
        encoder.append(event, to: &bytes)
        ends.append(bytes.count)
        seqs.append(event.seq)
    }

    /// Appends another buffer's lines after these.
    mutating func append(contentsOf other: LineBuffer) {
        guard !other.isEmpty else { return }
        let otherBase = other.start > 0 ? other.ends[other.start - 1] : 0
        let shift = bytes.count - otherBase
        bytes.append(contentsOf: other.bytes[otherBase...])
        for index in other.start..<other.ends.count {
            ends.append(other.ends[index] + shift)
            seqs.append(other.seqs[index])
        }
    }

    /// The longest prefix of whole lines not over `maxBytes` (at least one line): its byte count,
    /// line count and last `seq`.
    func prefix(maxBytes: Int) -> (bytes: Int, lines: Int, lastSeq: UInt64) {
        var index = start
        let base = start > 0 ? ends[start - 1] : 0
        while index + 1 < ends.count, ends[index + 1] - base <= maxBytes { index += 1 }
        return (ends[index] - base, index - start + 1, seqs[index])
    }

    /// Removes the oldest `lines` lines.
    mutating func removeFirst(lines: Int) {
        let base = start > 0 ? ends[start - 1] : 0
        let newStart = start + lines
        let cut = ends[newStart - 1]
        if newStart == ends.count {
            removeAll()
            return
        }
        bytes.removeSubrange(0..<cut)
        ends.removeSubrange(0..<newStart)
        seqs.removeSubrange(0..<newStart)
        for index in ends.indices { ends[index] -= cut }
        start = 0
        _ = base
    }

    /// Drops the newest lines until at most `maxBytes` remain; returns how many were dropped.
    mutating func trim(toBytes maxBytes: Int) -> Int {
        var dropped = 0
        while count > 0, bytes.count > maxBytes {
            let previousEnd = ends.count - 1 > start ? ends[ends.count - 2] : 0
            bytes.removeSubrange(previousEnd...)
            ends.removeLast()
            seqs.removeLast()
            dropped += 1
        }
        return dropped
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: bytes.capacity <= 8 << 20)
        ends.removeAll(keepingCapacity: true)
        seqs.removeAll(keepingCapacity: true)
        start = 0
    }
}
