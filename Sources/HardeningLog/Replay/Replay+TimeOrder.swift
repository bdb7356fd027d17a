import Hardening

extension Replay {
    /// The inputs' streams: the files of one directory (one writer's segments, in order) are
    /// one stream, standard input another.
    static func streams(_ files: [(offset: Int, element: String)]) -> [[(offset: Int, element: String)]] {
        var order: [String] = []
        var byDirectory: [String: [(offset: Int, element: String)]] = [:]
        for file in files {
            let directory = file.element == "-" ? "-" : String(file.element[..<(file.element.lastIndex(of: "/") ?? file.element.startIndex)])
            if byDirectory[directory] == nil { order.append(directory) }
            byDirectory[directory, default: []].append(file)
        }
        return order.map { byDirectory[$0]! }
    }

    /// Reads each stream on a thread of its own and hands the kept events to `onEvent` merged
    /// in time order (``TimeOrderedMerge``), on the calling thread; the streams' parts are
    /// merged as parallel replay merges them. `nil` when two streams held the same event (copies
    /// of a segment): the events went out once each, but the parts cannot be merged, and the
    /// caller folds the files again in order for the report.
    func foldMergedByTime(_ files: [(offset: Int, element: String)], onEvent: (Event) -> Void) -> Part? {
        let streams = Self.streams(files)
        let channels = streams.map { _ in EventChannel() }
        let results = Locked([Part?](repeating: nil, count: streams.count))
        let replay = self
        let reader = self.reader
        let threads = streams.indices.map { index in
            OSThread(name: "hardening-replay") {
                var part = Part()
                var batch: [Event] = []
                batch.reserveCapacity(EventChannel.batchSize)
                // Not strict (the caller reads in order then): nothing throws.
                try? replay.fold(streams[index], into: &part, reader: reader, onEvent: { event in
                    batch.append(event)
                    if batch.count == EventChannel.batchSize {
                        channels[index].put(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }, onFile: nil, progress: { _ in })
                if !batch.isEmpty { channels[index].put(batch) }
                channels[index].finish()
                results.withLock { $0[index] = part }
            }
        }
        TimeOrderedMerge.run(channels, write: onEvent)
        for thread in threads { thread.join() }
        let parts = results.withLock { $0 }.compactMap { $0 }
        for (index, part) in parts.enumerated() {
            for other in parts[(index + 1)...] where part.duplicates.overlaps(other.duplicates) { return nil }
        }
        var merged = parts.first ?? Part()
        for part in parts.dropFirst() {
            merged.merge(part, keepingIssues: maxIssuesKept)
            merged.duplicates.add(part.duplicates)
        }
        merged.workers = max(1, parts.count)
        return merged
    }
}
