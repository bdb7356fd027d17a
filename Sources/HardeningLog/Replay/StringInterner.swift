/// Strings for byte ranges, made once: replay sees the same operation, run and host names
/// millions of times. A small open-addressing table keyed by a cheap hash of the bytes, checked
/// byte for byte on a hit.
struct StringInterner {
    private var slots: [(hash: UInt64, bytes: [UInt8], string: String)?] = Array(repeating: nil, count: 1024)
    private var used = 0

    mutating func string(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let start = line.baseAddress! + range.lowerBound
        let count = range.count
        let hash = Self.hash(start, count)
        var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while let slot = slots[index] {
            if slot.hash == hash, slot.bytes.count == count,
                slot.bytes.withUnsafeBufferPointer({ bytesEqual($0.baseAddress!, start, count) })
            {
                return slot.string
            }
            index = (index + 1) & (slots.count - 1)
        }
        let string = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
        if used * 2 >= slots.count {
            // Full enough: start over rather than grow (a log has few distinct names; a log
            // with many gets no worse than making each string).
            slots = Array(repeating: nil, count: slots.count)
            used = 0
            index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        }
        slots[index] = (hash, Array(UnsafeBufferPointer(start: start, count: count)), string)
        used += 1
        return string
    }

    /// FNV-1a, eight bytes at a time.
    private static func hash(_ start: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        while index + 8 <= count {
            hash = (hash ^ UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self)) &* 0x100_0000_01b3
            index += 8
        }
        while index < count {
            hash = (hash ^ UInt64(start[index])) &* 0x100_0000_01b3
            index += 1
        }
        return hash ^ (hash >> 29)
    }
}
