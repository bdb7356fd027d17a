import Hardening

extension RotatingFileSink {
    /// How files are named on disk, and so how a tailer must follow them.
    public enum Layout: String, Sendable, Hashable, CaseIterable {
        /// Every file is created under its final, sortable name, `events-<UTC time>-<nnnn>.jsonl`, and
        /// never renamed while plain; `events.jsonl` is a symbolic link to the one being written
        /// (for `tail -F` and people). A tailer that follows the glob `events-*.jsonl` gets every
        /// line exactly once however far it lags, as long as it catches up before a closed segment
        /// is compressed (``Compression/delay``). The default.
        case segments
        /// The active file is always `events.jsonl`; at rotation it is renamed to
        /// `events.jsonl.<UTC time>-<n>` and a new one created. A tailer that follows the one name
        /// loses a whole segment when it falls a rotation behind. For tools that can only follow
        /// one fixed regular file.
        case rename
    }
}

/// A segment's file name in either layout, formatted and parsed in one place:
///
/// - ``RotatingFileSink/Layout/segments``: `events-20261129T000000Z-0001.jsonl` (the base name's
///   stem, the UTC time the segment was created, a counter of at least four digits, the base
///   name's extension), and
///   `.gz` appended once it is compressed;
/// - ``RotatingFileSink/Layout/rename``: `events.jsonl.20261129T000000Z-1` (the UTC time of the
///   rotation), `.gz` appended once compressed.
///
/// Segments order by (time, counter), then name.
package struct SegmentName: Hashable, Sendable, Comparable {
    /// The file name.
    package var name: String
    /// The base name the segment belongs to (`events.jsonl`).
    package var baseName: String
    /// The compact UTC time in the name (`20261129T000000Z`).
    package var time: String
    /// The counter after the time.
    package var counter: Int
    /// Whether the name ends in `.gz`.
    package var isCompressed: Bool
    /// The layout that names files this way.
    package var layout: RotatingFileSink.Layout

    /// The name of a new segment of `baseName`.
    package init(baseName: String, layout: RotatingFileSink.Layout, time: Timestamp, counter: Int, compressed: Bool) {
        self.init(baseName: baseName, layout: layout, compactTime: time.compactDescription, counter: counter, compressed: compressed)
    }

    init(baseName: String, layout: RotatingFileSink.Layout, compactTime: String, counter: Int, compressed: Bool) {
        self.baseName = baseName
        self.layout = layout
        self.time = compactTime
        self.counter = counter
        self.isCompressed = compressed
        let gz = compressed ? ".gz" : ""
        switch layout {
        case .segments:
            let (stem, suffix) = SegmentName.split(baseName)
            // The counter is zero-padded so that names sort as they were created, in `ls` too.
            let digits = String(counter)
            let padded = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            name = "\(stem)-\(self.time)-\(padded)\(suffix)\(gz)"
        case .rename:
            name = "\(baseName).\(self.time)-\(counter)\(gz)"
        }
    }

    /// Parses `name` as a segment of `baseName` in either layout; `nil` if it is not one.
    package init?(_ name: String, baseName: String) {
        guard let parsed = SegmentName(name), parsed.baseName == baseName else { return nil }
        self = parsed
    }

    /// Parses `name` as a segment of a `.jsonl` base name in either layout (as the reader does,
    /// not knowing the base name); `nil` if it is not one.
    package init?(_ name: String) {
        guard !name.hasSuffix(".tmp"), !name.hasPrefix(".") else { return nil }
        var rest = Substring(name)
        let compressed = rest.hasSuffix(".gz")
        if compressed { rest = rest.dropLast(3) }
        if rest.hasSuffix(".jsonl") {
            // segments: <stem>-<time>-<n>.jsonl
            rest = rest.dropLast(6)
            guard let (stem, time, counter) = SegmentName.splitStamp(rest), !stem.isEmpty else { return nil }
            self.init(name: name, baseName: stem + ".jsonl", time: time, counter: counter, compressed: compressed, layout: .segments)
        } else {
            // rename: <base>.jsonl.<time>-<n>
            guard let markerEnd = SegmentName.end(of: ".jsonl.", in: rest) else { return nil }
            let base = rest[..<markerEnd].dropLast()
            let stamp = rest[markerEnd...]
            guard let dash = stamp.lastIndex(of: "-"), let counter = Int(stamp[stamp.index(after: dash)...]), counter >= 0 else { return nil }
            let time = stamp[..<dash]
            guard SegmentName.isCompactTime(time) else { return nil }
            self.init(name: name, baseName: String(base), time: String(time), counter: counter, compressed: compressed, layout: .rename)
        }
    }

    private init(name: String, baseName: String, time: String, counter: Int, compressed: Bool, layout: RotatingFileSink.Layout) {
        self.name = name
        self.baseName = baseName
        self.time = time
        self.counter = counter
        self.isCompressed = compressed
        self.layout = layout
    }

    /// The same segment once compressed.
    package var compressed: SegmentName {
        var copy = self
        if !copy.isCompressed {
            copy.isCompressed = true
            copy.name += ".gz"
        }
        return copy
    }

    package static func < (lhs: SegmentName, rhs: SegmentName) -> Bool {
        (lhs.time, lhs.counter, lhs.name) < (rhs.time, rhs.counter, rhs.name)
    }

    /// `events.jsonl` → (`events`, `.jsonl`); a base name without `.jsonl` keeps it whole.
    static func split(_ baseName: String) -> (stem: String, suffix: String) {
        if baseName.hasSuffix(".jsonl"), baseName.count > 6 { return (String(baseName.dropLast(6)), ".jsonl") }
        return (baseName, "")
    }

    /// `events-20261129T000000Z-1` → (`events`, `20261129T000000Z`, 1).
    private static func splitStamp(_ text: Substring) -> (String, String, Int)? {
        guard let dash = text.lastIndex(of: "-"), let counter = Int(text[text.index(after: dash)...]), counter >= 0 else { return nil }
        let head = text[..<dash]
        guard let timeDash = head.lastIndex(of: "-") else { return nil }
        let time = head[head.index(after: timeDash)...]
        guard isCompactTime(time) else { return nil }
        return (String(head[..<timeDash]), String(time), counter)
    }

    /// The index just past the first occurrence of `marker` in `text`.
    private static func end(of marker: String, in text: Substring) -> Substring.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix(marker) { return text.index(index, offsetBy: marker.count) }
            index = text.index(after: index)
        }
        return nil
    }

    /// `20261129T000000Z`: 8 digits, `T`, 6 digits, `Z`.
    private static func isCompactTime(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return false }
        return bytes.enumerated().allSatisfy { index, byte in index == 8 || index == 15 || (0x30...0x39).contains(byte) }
    }
}
