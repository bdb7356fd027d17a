#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// Replay on several cores: several files in contiguous blocks, or one large file in ranges, each
/// folded by a worker of its own and the parts merged exactly.
extension Replay {
    /// Runs `count` workers, each folding into a part of its own with an inline reader: worker 0
    /// on the calling thread (the only one that calls back), the others on threads of their own;
    /// progress adds up every worker's events read.
    private func foldOnWorkers(
        _ count: Int, onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
        onProgress: ((_ eventsRead: Int64) -> Void)?,
        _ fold: @escaping @Sendable (_ worker: Int, _ replay: Replay, _ reader: LogReader, _ part: inout Part,
                                     _ onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                                     _ progress: (Int64) -> Void) -> Void
    ) -> [Part?] {
        var inlineReader = self.reader
        inlineReader.inflatesInBackground = false
        let reader = inlineReader
        let read = Locked([Int64](repeating: 0, count: count))
        let results = Locked([Part?](repeating: nil, count: count))
        let replay = self
        @Sendable func work(_ worker: Int, onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                            onProgress: ((Int64) -> Void)?) {
            var part = Part()
            var reported: Int64 = 0
            fold(worker, replay, reader, &part, onFile) { eventsRead in
                guard eventsRead - reported >= Self.progressInterval else { return }
                reported = eventsRead
                let total = read.withLock { read -> Int64 in
                    read[worker] = eventsRead
                    return read.reduce(0, +)
                }
                onProgress?(total)
            }
            results.withLock { $0[worker] = part }
        }
        let threads = (1..<max(1, count)).map { worker in
            OSThread(name: "hardening-replay") { work(worker, onFile: nil, onProgress: nil) }
        }
        work(0, onFile: onFile, onProgress: onProgress)
        for thread in threads { thread.join() }
        return results.withLock { $0 }
    }

    /// Several files on ``workers`` threads (the calling thread is one), each folding one
    /// contiguous block of the files, in order, of about the same amount of work: the parts then
    /// meet at one cut each, which is what makes their merge exact (a breaker's open period
    /// that spans the cut is closed there, as between two files). `nil` when two workers folded
    /// the same event (copies of a segment in different blocks): the caller then reads
    /// everything in order, which counts each event once.
    func foldInParallel(_ files: [(offset: Int, element: String)],
                                onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                                onProgress: ((_ eventsRead: Int64) -> Void)?) -> Part? {
        let blocks = Self.blocks(files.map(\.element), count: min(workers, files.count), fileSystem: reader.fileSystem)
        let results = foldOnWorkers(blocks.count, onFile: onFile, onProgress: onProgress) { worker, replay, reader, part, onFile, progress in
            // Strict replay never runs here: nothing throws.
            try? replay.fold(files[blocks[worker]], into: &part, reader: reader, onEvent: nil, onFile: onFile, progress: progress)
        }
        let parts = results.compactMap { $0 }
        for (index, part) in parts.enumerated() {
            for other in parts[(index + 1)...] where part.duplicates.overlaps(other.duplicates) { return nil }
        }
        var merged = parts[0]
        for part in parts.dropFirst() {
            merged.merge(part, keepingIssues: maxIssuesKept)
            merged.duplicates.add(part.duplicates)
        }
        merged.workers = parts.count
        return merged
    }

    /// One large file read as ``workers`` contiguous ranges at once, each cut where a gzip member
    /// begins (a gzip-stream file has one a flush) or after a newline (a plain file), each range
    /// inflated inline on its own core, the parts merged in order (exactly, as between two files)
    /// and the issues' line numbers and offsets made the file's own. `nil` when the file is small,
    /// cannot be cut, or a cut turns out not to be one (a member or a line cut short): the caller
    /// reads it in one piece.
    func foldRangesInParallel(_ file: (offset: Int, element: String),
                                      onFile: ((_ index: Int, _ path: String, _ account: InputAccount) -> Void)?,
                                      onProgress: ((_ eventsRead: Int64) -> Void)?) -> Part? {
        let path = file.element
        let fileSystem = reader.fileSystem
        guard let info = (try? fileSystem.info(path)) ?? nil, info.isRegularFile || info.isSymbolicLink, info.size >= splitBytes,
            let compressed = Self.isCompressed(path, fileSystem: fileSystem)
        else { return nil }
        var cuts: [Int64] = [0]
        for worker in 1..<workers {
            guard let cut = FileCut.find(in: path, fileSystem: fileSystem, compressed: compressed, from: info.size * Int64(worker) / Int64(workers)),
                cut > cuts.last!, cut < info.size
            else { break }
            cuts.append(cut)
        }
        guard cuts.count > 1 else { return nil }
        let ranges = zip(cuts, cuts.dropFirst() + [info.size]).map { $0..<$1 }
        let results = foldOnWorkers(ranges.count, onFile: onFile, onProgress: onProgress) { worker, replay, reader, part, onFile, progress in
            try? replay.fold(CollectionOfOne(file), into: &part, reader: reader, range: ranges[worker], onEvent: nil, onFile: onFile,
                             progress: progress)
        }
        var parts = results.compactMap { $0 }
        guard parts.count == ranges.count else { return nil }
        // A cut that was not one shows as a member or a line cut short before it, or as damage right after it.
        for (index, part) in parts.enumerated() {
            let cutShort = index < parts.count - 1 && part.issues.contains { [.truncatedGzip, .tornLine].contains($0.issue.kind) }
            let damagedStart = index > 0 && part.issues.contains { $0.issue.kind == .corruptGzip && ($0.issue.offset ?? -1) == 0 }
            if cutShort || damagedStart { return nil }
        }
        for (index, part) in parts.enumerated() {
            for other in parts[(index + 1)...] where part.duplicates.overlaps(other.duplicates) { return nil }
        }
        // Line numbers and offsets as the whole file's.
        var linesBefore = 0
        for index in parts.indices {
            let start = ranges[index].lowerBound
            parts[index].issues = parts[index].issues.map { entry in
                var issue = entry.issue
                if let line = issue.line { issue.line = line + linesBefore }
                if let offset = issue.offset { issue.offset = offset + start }
                return (entry.file, issue)
            }
            linesBefore += parts[index].lines
        }
        var merged = parts[0]
        for part in parts.dropFirst() {
            merged.merge(part, keepingIssues: maxIssuesKept)
            merged.duplicates.add(part.duplicates)
        }
        merged.files = 1
        merged.workers = parts.count
        return merged
    }

    /// Whether `path` starts as gzip does; `nil` when it cannot be read.
    private static func isCompressed(_ path: String, fileSystem: any FileSystem) -> Bool? {
        guard let descriptor = try? fileSystem.open(path, flags: O_RDONLY, mode: 0) else { return nil }
        defer { fileSystem.close(descriptor) }
        var head = [UInt8](repeating: 0, count: 3)
        guard let count = try? fileSystem.read(descriptor, into: &head, path: path), count > 0 else { return nil }
        return LogReader.looksCompressed(head[0..<count])
    }

    /// `paths` cut into `count` contiguous blocks of about the same work: bytes on disk, a
    /// compressed file (by name) counted ten times (what it inflates to, about). Each cut is the
    /// file boundary nearest its share of the total (the slowest block sets the time: ten
    /// segments and an active file split 5 + 6, not 6 + 5 by rounding up).
    static func blocks(_ paths: [String], count: Int, fileSystem: any FileSystem) -> [Range<Int>] {
        let weights = paths.map { path -> Int64 in
            let size = max(1, ((try? fileSystem.info(path)) ?? nil)?.size ?? 1)
            return path.hasSuffix(".gz") ? size * 10 : size
        }
        return blocks(weights: weights, count: count)
    }

    /// `weights` cut into at most `count` contiguous non-empty blocks, each cut at the boundary
    /// whose running total is nearest `total * block / count`.
    package static func blocks(weights: [Int64], count: Int) -> [Range<Int>] {
        guard !weights.isEmpty else { return [] }
        let blockCount = max(1, min(count, weights.count))
        var prefix: [Int64] = [0]
        for weight in weights { prefix.append(prefix.last! + weight) }
        let total = prefix.last!
        var cuts: [Int] = [0]
        for block in 1..<blockCount {
            let target = Double(total) * Double(block) / Double(blockCount)
            // Leave at least one file for each later block.
            let candidates = (cuts.last! + 1)...(weights.count - (blockCount - block))
            let cut = candidates.min { abs(Double(prefix[$0]) - target) < abs(Double(prefix[$1]) - target) }!
            cuts.append(cut)
        }
        cuts.append(weights.count)
        return zip(cuts, cuts.dropFirst()).map { $0..<$1 }
    }
}
