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

    /// Fallbacks close together: the first, the last, how many.
    package struct Stretch: Sendable {
        package var first: Occurrence
        package var last: Occurrence
        package var firstMessage: String
        package var lastMessage: String
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

    /// Adds one notable event.
    package mutating func record(_ notable: Notable, at occurrence: Occurrence) {
        if notable.isFailure { recordFailure(notable, at: occurrence) }
        switch notable.role {
        case .breakerChanged:
            Self.recordChange(notable, at: occurrence, into: &breakerChanges, overLimit: &overLimit)
            addEntry(Entry(at: occurrence, kind: notable.kind, what: notable.role.rawValue, subject: notable.subject, message: notable.message))
        case .healthChanged:
            Self.recordChange(notable, at: occurrence, into: &healthChanges, overLimit: &overLimit)
            addEntry(Entry(at: occurrence, kind: notable.kind, what: notable.role.rawValue, subject: notable.subject, message: notable.message))
        case .alertFired, .alertResolved, .retriesExhausted:
            addEntry(Entry(at: occurrence, kind: notable.kind, what: notable.role.rawValue, subject: notable.subject, message: notable.message))
        case .fallback:
            recordFallback(notable, at: occurrence)
        case .failure:
            break
        }
    }

    private mutating func recordFailure(_ notable: Notable, at occurrence: Occurrence) {
        let failure = Failure(at: occurrence, kind: notable.kind, subject: notable.subject, rootErrorType: notable.rootErrorType,
                              message: notable.message)
        if firstFailure.map({ occurrence < $0.at }) ?? true { firstFailure = failure }
        Self.keepEarliest(failure, for: occurrence.host, in: &firstFailureByHost, overLimit: &overLimit)
        Self.keepEarliest(failure, for: notable.subject, in: &firstFailureBySubject, overLimit: &overLimit)
    }

    private static func keepEarliest<Key: Hashable>(_ failure: Failure, for key: Key, in map: inout [Key: Failure], overLimit: inout Int64) {
        if let kept = map[key] {
            if failure.at < kept.at { map[key] = failure }
        } else if map.count < subjectLimit {
            map[key] = failure
        } else {
            overLimit += 1
        }
    }

    private static func recordChange(_ notable: Notable, at occurrence: Occurrence, into changes: inout [ChangeKey: [Change]],
                                     overLimit: inout Int64) {
        guard let change = notable.change else { return }
        let key = ChangeKey(name: notable.subject.name, host: occurrence.host, run: occurrence.run)
        guard changes[key] != nil || changes.count < Self.subjectLimit, changes[key, default: []].count < Self.changeLimit else {
            overLimit += 1
            return
        }
        changes[key, default: []].append(Change(at: occurrence, from: change.from, to: change.to, reason: change.reason))
    }

    private mutating func recordFallback(_ notable: Notable, at occurrence: Occurrence) {
        let key = StretchKey(operation: notable.subject.name, host: occurrence.host, run: occurrence.run)
        var stretches = fallbackStretches[key] ?? []
        if let last = stretches.last, occurrence.timestamp.microsecondsSinceEpoch >= last.first.timestamp.microsecondsSinceEpoch &- Self.fallbackQuietMicroseconds,
            occurrence.timestamp.microsecondsSinceEpoch <= last.last.timestamp.microsecondsSinceEpoch &+ Self.fallbackQuietMicroseconds
        {
            stretches[stretches.count - 1].add(occurrence, notable.message)
        } else if fallbackStretches[key] != nil || fallbackStretches.count < Self.subjectLimit, stretches.count < Self.changeLimit {
            stretches.append(Stretch(first: occurrence, last: occurrence, firstMessage: notable.message, lastMessage: notable.message, count: 1))
        } else {
            overLimit += 1
            return
        }
        fallbackStretches[key] = stretches
    }

    private mutating func addEntry(_ entry: Entry) {
        entries.append(entry)
        if entries.count >= 2 * Self.timelineLimit { trimEntries() }
    }

    /// Keeps the earliest ``timelineLimit`` entries, counting the rest.
    private mutating func trimEntries() {
        guard entries.count > Self.timelineLimit else { return }
        entries.sort { $0.at < $1.at }
        entriesOmitted += Int64(entries.count - Self.timelineLimit)
        entries.removeLast(entries.count - Self.timelineLimit)
    }

    /// Adds what another reader gathered (other files, or another range of one).
    package mutating func merge(_ other: PostMortem) {
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
    mutating func add(_ occurrence: Occurrence, _ message: String) {
        count += 1
        if occurrence < first {
            first = occurrence
            firstMessage = message
        }
        if last < occurrence {
            last = occurrence
            lastMessage = message
        }
    }

    mutating func absorb(_ other: PostMortem.Stretch) {
        count += other.count
        if other.first < first {
            first = other.first
            firstMessage = other.firstMessage
        }
        if last < other.last {
            last = other.last
            lastMessage = other.lastMessage
        }
    }
}
