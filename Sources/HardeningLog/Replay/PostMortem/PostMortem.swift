import Hardening

/// What a post-mortem asks of the logs, gathered as replay reads them: the first failure
/// (in all, per host, per subject), every breaker's and health check's changes per host and run,
/// the incident's notable events, and the stretches of fallbacks per operation.
///
/// Parts gathered from different files or ranges ``merge(_:)`` into what one reader would
/// have gathered; ``report(runs:)`` turns it into the sections of the replay report. Memory is
/// bounded: the timeline keeps its earliest ``timelineLimit`` entries and counts the rest, and
/// subjects past ``subjectLimit`` are counted, not kept.
package struct PostMortem: Sendable {
    /// Timeline entries kept (the earliest); the rest are counted.
    package static let timelineLimit = 500
    /// Subjects (operations, breakers, checks) and interval keys kept; more are counted.
    package static let subjectLimit = 10_000
    /// Changes kept per breaker or check, host and run; more are counted.
    package static let changeLimit = 100_000
    /// Fallbacks of one operation this close together are one stretch.
    package static let fallbackQuietMicroseconds: Int64 = 60_000_000

    /// A failure and where it happened.
    package struct Failure: Sendable {
        package var at: Occurrence
        package var kind: EventKind
        package var subject: Subject
        package var rootErrorType: String?
        package var message: String
    }

    /// One breaker's or check's changes on one host in one run.
    package struct ChangeKey: Sendable, Hashable {
        package var name: String
        package var host: String
        package var run: String
    }

    /// One change of state.
    package struct Change: Sendable {
        package var at: Occurrence
        package var from: String
        package var to: String
        package var reason: String
    }

    /// One operation's fallbacks on one host in one run.
    package struct StretchKey: Sendable, Hashable {
        package var operation: String
        package var host: String
        package var run: String
    }

    /// Fallbacks close together: the first (with its message), the last, how many.
    package struct Stretch: Sendable {
        package var first: Occurrence
        package var last: Occurrence
        package var firstMessage: String
        package var count: Int64
    }

    /// One line of the incident's timeline.
    package struct Entry: Sendable {
        package var at: Occurrence
        package var kind: EventKind
        package var what: String
        package var subject: Subject
        package var message: String
        /// For a stretch of fallbacks: how many it holds.
        package var count: Int64?
    }

    package private(set) var firstFailure: Failure?
    package private(set) var firstFailureByHost: [String: Failure] = [:]
    package private(set) var firstFailureBySubject: [Subject: Failure] = [:]
    package private(set) var breakerChanges: [ChangeKey: [Change]] = [:]
    package private(set) var healthChanges: [ChangeKey: [Change]] = [:]
    package private(set) var fallbackStretches: [StretchKey: [Stretch]] = [:]
    package private(set) var entries: [Entry] = []
    /// Timeline entries left out (past ``timelineLimit``).
    package private(set) var entriesOmitted: Int64 = 0
    /// Subjects, keys or changes past their limits: counted, not kept.
    package private(set) var overLimit: Int64 = 0

    package init() {}

    /// Adds one notable event. Its trace id and message are only made when something keeps
    /// them (most notable events change a count or nothing: replay stays fast on logs full of failures).
    package mutating func record(_ notable: Notable, at occurrence: Occurrence, traceID: @autoclosure () -> String?,
                                 message: @autoclosure () -> String) {
        var occurrence = occurrence
        var made = false
        func complete() -> Occurrence {
            if !made {
                occurrence.traceID = traceID()
                made = true
            }
            return occurrence
        }
        if notable.isFailure { recordFailure(notable, at: occurrence, complete: complete, message: message) }
        switch notable.role {
        case .breakerChanged:
            Self.recordChange(notable, at: occurrence, into: &breakerChanges, overLimit: &overLimit)
            addEntry(notable, at: occurrence, complete: complete, message: message)
        case .healthChanged:
            Self.recordChange(notable, at: occurrence, into: &healthChanges, overLimit: &overLimit)
            addEntry(notable, at: occurrence, complete: complete, message: message)
        case .alertFired, .alertResolved, .retriesExhausted:
            addEntry(notable, at: occurrence, complete: complete, message: message)
        case .fallback:
            recordFallback(notable, at: occurrence, complete: complete, message: message)
        case .failure:
            break
        }
    }

    /// The first failures kept of the subjects and the host seen last: most failures come later
    /// than those, which these tell without a lookup.
    private var recentSubjects: [(subject: Subject, at: Occurrence)] = []
    private var recentHost: (host: String, at: Occurrence)?

    private mutating func recordFailure(_ notable: Notable, at occurrence: Occurrence, complete: () -> Occurrence, message: () -> String) {
        let earliest = firstFailure.map { occurrence < $0.at } ?? true
        let earliestOnHost: Bool
        if let recent = recentHost, recent.host == occurrence.host, recent.at < occurrence {
            earliestOnHost = false
        } else {
            earliestOnHost = Self.isEarliest(occurrence, for: occurrence.host, in: firstFailureByHost, overLimit: &overLimit)
            if !earliestOnHost, let kept = firstFailureByHost[occurrence.host] { recentHost = (occurrence.host, kept.at) }
        }
        let earliestOfSubject: Bool
        if let recent = recentSubjects.first(where: { $0.subject == notable.subject }), recent.at < occurrence {
            earliestOfSubject = false
        } else {
            earliestOfSubject = Self.isEarliest(occurrence, for: notable.subject, in: firstFailureBySubject, overLimit: &overLimit)
            if !earliestOfSubject, let kept = firstFailureBySubject[notable.subject] { remember(notable.subject, kept.at) }
        }
        guard earliest || earliestOnHost || earliestOfSubject else { return }
        let failure = Failure(at: complete(), kind: notable.kind, subject: notable.subject, rootErrorType: notable.rootErrorType, message: message())
        if earliest { firstFailure = failure }
        if earliestOnHost {
            firstFailureByHost[occurrence.host] = failure
            recentHost = (occurrence.host, occurrence)
        }
        if earliestOfSubject {
            firstFailureBySubject[notable.subject] = failure
            remember(notable.subject, occurrence)
        }
    }

    private mutating func remember(_ subject: Subject, _ at: Occurrence) {
        if let index = recentSubjects.firstIndex(where: { $0.subject == subject }) {
            recentSubjects[index].at = at
        } else {
            if recentSubjects.count == 16 { recentSubjects.removeFirst() }
            recentSubjects.append((subject, at))
        }
    }

    /// Whether `occurrence` comes before what `map` keeps for `key` (or `key` is new and there is room).
    private static func isEarliest<Key: Hashable>(_ occurrence: Occurrence, for key: Key, in map: [Key: Failure], overLimit: inout Int64) -> Bool {
        if let kept = map[key] { return occurrence < kept.at }
        guard map.count < subjectLimit else {
            overLimit += 1
            return false
        }
        return true
    }

    private static func keepEarliest<Key: Hashable>(_ failure: Failure, for key: Key, in map: inout [Key: Failure], overLimit: inout Int64) {
        if isEarliest(failure.at, for: key, in: map, overLimit: &overLimit) { map[key] = failure }
    }

    private static func recordChange(_ notable: Notable, at occurrence: Occurrence, into changes: inout [ChangeKey: [Change]],
                                     overLimit: inout Int64) {
        guard let change = notable.change else { return }
        let key = ChangeKey(name: notable.subject.name, host: occurrence.host, run: occurrence.run)
        if changes.count >= Self.subjectLimit, changes[key] == nil {
            overLimit += 1
            return
        }
        if !append(Change(at: occurrence, from: change.from, to: change.to, reason: change.reason), to: &changes[key, default: []]) { overLimit += 1 }
    }

    private static func append(_ change: Change, to changes: inout [Change]) -> Bool {
        guard changes.count < changeLimit else { return false }
        changes.append(change)
        return true
    }

    private mutating func recordFallback(_ notable: Notable, at occurrence: Occurrence, complete: () -> Occurrence, message: () -> String) {
        let key = StretchKey(operation: notable.subject.name, host: occurrence.host, run: occurrence.run)
        if fallbackStretches.count >= Self.subjectLimit, fallbackStretches[key] == nil {
            overLimit += 1
            return
        }
        // In place, one lookup: the stretches are not copied.
        if !Self.add(occurrence, to: &fallbackStretches[key, default: []], complete: complete, message: message) { overLimit += 1 }
    }

    /// Adds a fallback to the last stretch when it is close enough, else starts one; `false`
    /// when there are ``changeLimit`` stretches already.
    private static func add(_ occurrence: Occurrence, to stretches: inout [Stretch], complete: () -> Occurrence, message: () -> String) -> Bool {
        let time = occurrence.timestamp.microsecondsSinceEpoch
        if let index = stretches.indices.last, time >= stretches[index].first.timestamp.microsecondsSinceEpoch &- fallbackQuietMicroseconds,
            time <= stretches[index].last.timestamp.microsecondsSinceEpoch &+ fallbackQuietMicroseconds
        {
            stretches[index].count += 1
            if occurrence < stretches[index].first {
                stretches[index].first = complete()
                stretches[index].firstMessage = message()
            }
            if stretches[index].last < occurrence { stretches[index].last = occurrence }
            return true
        }
        guard stretches.count < changeLimit else { return false }
        stretches.append(Stretch(first: complete(), last: occurrence, firstMessage: message(), count: 1))
        return true
    }

    /// The latest entry kept once the timeline is full: later ones are only counted.
    private var entriesCutoff: Occurrence?

    private mutating func addEntry(_ notable: Notable, at occurrence: Occurrence, complete: () -> Occurrence, message: () -> String) {
        if let cutoff = entriesCutoff, cutoff < occurrence {
            entriesOmitted += 1
            return
        }
        entries.append(Entry(at: complete(), kind: notable.kind, what: notable.role.rawValue, subject: notable.subject, message: message()))
        if entries.count >= 2 * Self.timelineLimit { trimEntries() }
    }

    /// Keeps the earliest ``timelineLimit`` entries, counting the rest.
    private mutating func trimEntries() {
        guard entries.count > Self.timelineLimit else { return }
        entries.sort { $0.at < $1.at }
        entriesOmitted += Int64(entries.count - Self.timelineLimit)
        entries.removeLast(entries.count - Self.timelineLimit)
        entriesCutoff = entries.last?.at
    }

    /// Adds what another reader gathered (other files, or another range of one).
    package mutating func merge(_ other: PostMortem) {
        recentSubjects = []
        recentHost = nil
        if let theirs = other.firstFailure { if firstFailure.map({ theirs.at < $0.at }) ?? true { firstFailure = theirs } }
        for (host, failure) in other.firstFailureByHost { Self.keepEarliest(failure, for: host, in: &firstFailureByHost, overLimit: &overLimit) }
        for (subject, failure) in other.firstFailureBySubject {
            Self.keepEarliest(failure, for: subject, in: &firstFailureBySubject, overLimit: &overLimit)
        }
        breakerChanges.merge(other.breakerChanges) { $0 + $1 }
        healthChanges.merge(other.healthChanges) { $0 + $1 }
        fallbackStretches.merge(other.fallbackStretches) { $0 + $1 }
        entries += other.entries
        entriesOmitted += other.entriesOmitted
        overLimit += other.overLimit
        trimEntries()
    }
}

extension PostMortem.Stretch {
    mutating func absorb(_ other: PostMortem.Stretch) {
        count += other.count
        if other.first < first {
            first = other.first
            firstMessage = other.firstMessage
        }
        if last < other.last { last = other.last }
    }
}
