import Hardening

/// Encoded lines waiting to be written, with where each ends and its event's `seq`, so that the
/// file sink can write whole-line chunks, keep the oldest lines on failure, and name the first
/// `seq` of a new file.
struct LineBuffer {
    private(set) var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var seqs: [UInt64] = []

    init(reservingBytes capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Lines waiting.
    var count: Int { ends.count }
    /// Bytes waiting.
    var byteCount: Int { bytes.count }
    var isEmpty: Bool { ends.isEmpty }
    /// The `seq` of the oldest waiting line.
    var firstSeq: UInt64? { seqs.first }
    /// The `seq` of the newest waiting line.
    var lastSeq: UInt64? { seqs.last }

    mutating func append(_ event: Event, encoder: JSONLineEncoder) {
        encoder.append(event, to: &bytes)
        ends.append(bytes.count)
        seqs.append(event.seq)
    }

    /// Appends another buffer's lines after these.
    mutating func append(contentsOf other: LineBuffer) {
        let shift = bytes.count
        bytes.append(contentsOf: other.bytes)
        ends.append(contentsOf: other.ends.lazy.map { $0 + shift })
        seqs.append(contentsOf: other.seqs)
    }

    /// The longest prefix of whole lines not over `maxBytes` (at least one line): its byte count,
    /// line count and last `seq`.
    func prefix(maxBytes: Int) -> (bytes: Int, lines: Int, lastSeq: UInt64) {
        var index = 0
        while index + 1 < ends.count, ends[index + 1] <= maxBytes { index += 1 }
        return (ends[index], index + 1, seqs[index])
    }

    /// Removes the oldest `lines` lines.
    mutating func removeFirst(lines: Int) {
        guard lines < ends.count else { return removeAll() }
        let cut = ends[lines - 1]
        bytes.removeSubrange(0..<cut)
        ends.removeSubrange(0..<lines)
        seqs.removeSubrange(0..<lines)
        for index in ends.indices { ends[index] -= cut }
    }

    /// Drops the newest lines until at most `maxBytes` remain; returns how many were dropped.
    mutating func trim(toBytes maxBytes: Int) -> Int {
        var dropped = 0
        while !ends.isEmpty, bytes.count > maxBytes {
            ends.removeLast()
            seqs.removeLast()
            bytes.removeSubrange((ends.last ?? 0)...)
            dropped += 1
        }
        return dropped
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: bytes.capacity <= 8 << 20)
        ends.removeAll(keepingCapacity: true)
        seqs.removeAll(keepingCapacity: true)
    }
}
