extension Summary {
    /// One run (a process start): its identity, span and completeness.
    public struct Run: Sendable, Hashable {
        /// The service that ran.
        public var service: String
        /// Where it ran.
        public var host: String
        /// Its first and last event.
        public var first: Timestamp
        /// Its last event.
        public var last: Timestamp
        /// The `seq` numbers seen.
        public var seen = SequenceCoverage()
        /// The `seq` of the earliest event: the run's service and host are that event's, so
        /// they do not depend on the order events are folded in.
        var firstSeq: UInt64

        /// Numbers between 1 and the highest seen that never arrived: lost events (0 when the
        /// files keep only some levels: see ``belowMinimumLevel``); the numbers before the run's
        /// earliest file read are not counted (``beforeFirstFile``).
        public var missing: UInt64 {
            guard filesMinimumLevel == nil else { return 0 }
            let all = seen.missing
            let before = beforeFirstFile
            return all > before ? all - before : 0
        }
        /// The `seq` of the first event of the run's earliest file read (its `file.opened`
        /// header); `nil` when no header was read (the live summary, standard input).
        public var firstFileSeq: UInt64?
        /// The numbers below ``firstFileSeq`` never seen: events written to the run's earlier
        /// files, which were not read (deleted by retention, or not named), not lost.
        public var beforeFirstFile: UInt64 {
            guard let firstFileSeq, firstFileSeq > 1 else { return 0 }
            return seen.missing(below: firstFileSeq)
        }
        /// The lowest level the run's files keep, when their sink left lower levels out
        /// (`file.opened`'s `min_level`); `nil`: every level.
        public var filesMinimumLevel: EventLevel?
        /// With ``filesMinimumLevel``: the numbers between 1 and the highest seen that are not in
        /// the files, events below that level (a loss among them is told by its own record:
        /// `bus.dropped`, `sink.dropped`, `sink.recovered`, `file.closed`).
        public var belowMinimumLevel: UInt64 { filesMinimumLevel == nil ? 0 : seen.missing }
        /// The highest `seq` the run's file sink said it was given (`file.closed`); 0 if none said.
        public var announcedHighest: UInt64 = 0
        /// Events after the highest seen that the sink was given but could not write.
        public var lostTail: UInt64 { announcedHighest > seen.highest ? announcedHighest - seen.highest : 0 }

        /// A run of one event.
        public init(service: String, host: String, timestamp: Timestamp, seq: UInt64) {
            self.service = service
            self.host = host
            first = timestamp
            last = timestamp
            firstSeq = seq
            seen.insert(seq)
        }

        /// Adds one event.
        package mutating func record(service: String, host: String, timestamp: Timestamp, seq: UInt64) {
            if (timestamp, seq) < (first, firstSeq) {
                first = timestamp
                firstSeq = seq
                self.service = service
                self.host = host
            }
            if timestamp > last { last = timestamp }
            seen.insert(seq)
        }

        /// Adds another stretch of the same run.
        package mutating func merge(_ other: Run) {
            if (other.first, other.firstSeq) < (first, firstSeq) {
                first = other.first
                firstSeq = other.firstSeq
                service = other.service
                host = other.host
            }
            last = max(last, other.last)
            seen.merge(other.seen)
            announcedHighest = max(announcedHighest, other.announcedHighest)
            if let theirs = other.filesMinimumLevel { filesMinimumLevel = max(filesMinimumLevel ?? theirs, theirs) }
            if let theirs = other.firstFileSeq { firstFileSeq = min(firstFileSeq ?? theirs, theirs) }
        }

        var json: AttributeValue {
            var attrs: Attributes = [
                "service": .string(service), "host": .string(host), "first": .string(first.description),
                "last": .string(last.description), "events": .int(Int64(clamping: seen.count)),
                "highest_seq": .int(Int64(clamping: seen.highest)), "missing": .int(Int64(clamping: missing)),
            ]
            if beforeFirstFile > 0 { attrs.appendUnchecked("before_first_file", .int(Int64(clamping: beforeFirstFile))) }
            if let filesMinimumLevel {
                attrs.appendUnchecked("files_min_level", .string(filesMinimumLevel.name))
                attrs.appendUnchecked("below_min_level", .int(Int64(clamping: belowMinimumLevel)))
            }
            if lostTail > 0 { attrs.appendUnchecked("lost_tail", .int(Int64(clamping: lostTail))) }
            return .object(attrs)
        }
    }
}
