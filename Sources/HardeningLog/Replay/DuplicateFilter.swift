import Hardening

/// The `run`/`seq` pairs replay has folded, across every file: the same event read twice (two
/// copies of a segment, a glob and a directory naming one file through different paths, gzip
/// members repeated) is counted once, and the copies are reported.
struct DuplicateFilter {
    private var seen: [String: SequenceCoverage] = [:]
    /// The run of the last event, and its coverage (kept out of the dictionary while in use).
    private var current: (run: String, coverage: SequenceCoverage)?
    /// Events read again and not folded.
    private(set) var duplicates: Int64 = 0

    /// Whether the event `run`/`seq` was folded already (headers, seq 0, never are).
    mutating func isDuplicate(run: String, seq: UInt64) -> Bool {
        guard seq > 0 else { return false }
        select(run)
        if current!.coverage.contains(seq) {
            duplicates += 1
            return true
        }
        return false
    }

    /// Records `run`/`seq` as folded.
    mutating func insert(run: String, seq: UInt64) {
        guard seq > 0 else { return }
        select(run)
        current!.coverage.insert(seq)
    }

    private mutating func select(_ run: String) {
        if current?.run == run { return }
        if let current { seen[current.run] = current.coverage }
        current = (run, seen.removeValue(forKey: run) ?? SequenceCoverage())
    }

    /// Whether an event folded here was also folded by `other` (two replay workers read copies of
    /// one segment: their results cannot simply be merged).
    func overlaps(_ other: DuplicateFilter) -> Bool {
        let theirs = other.coverages
        for (run, coverage) in coverages {
            if let other = theirs[run], coverage.intersects(other) { return true }
        }
        return false
    }

    private var coverages: [String: SequenceCoverage] {
        var all = seen
        if let current { all[current.run] = current.coverage }
        return all
    }

    /// Takes in another filter's events (which do not overlap these).
    mutating func add(_ other: DuplicateFilter) {
        for (run, coverage) in other.coverages {
            select(run)
            current!.coverage.merge(coverage)
        }
        duplicates += other.duplicates
    }
}
