/// Answers for a failed operation: the guide's `@graceful_degradation(fallback_value=...)`, with
/// the fallback chosen by the kind of error.
///
/// Rules are tried in order; the first whose error type (or predicate) matches supplies the
/// answer, and `fallback.used` is emitted. A rule matches an error, or the last error of a
/// ``RetryError``. Cancellation never falls back: it is rethrown. An error no rule matches is
/// rethrown.
public struct Fallback<T: Sendable>: Sendable {
    private struct Rule: Sendable {
        var name: String
        var matches: @Sendable (any Error) -> Bool
        var answer: @Sendable (any Error) async throws -> T
    }

    private var rules: [Rule] = []

    /// A fallback with no rules yet.
    public init() {}

    /// Falls back to `value` for any error (the guide's `fallback_value`).
    public static func value(_ value: T, name: String = "value") -> Fallback<T> {
        Fallback().otherwise(name: name) { _ in value }
    }

    /// Adds a rule for errors of type `type`.
    public func when<E: Error>(_ type: E.Type, name: String, use answer: @escaping @Sendable (E) async throws -> T) -> Fallback<T> {
        var copy = self
        copy.rules.append(Rule(name: name, matches: { $0 is E }, answer: { try await answer($0 as! E) }))
        return copy
    }

    /// Adds a rule for errors `predicate` accepts.
    public func when(name: String, _ predicate: @escaping @Sendable (any Error) -> Bool,
                     use answer: @escaping @Sendable (any Error) async throws -> T) -> Fallback<T> {
        var copy = self
        copy.rules.append(Rule(name: name, matches: predicate, answer: answer))
        return copy
    }

    /// Adds a rule for every error not matched before.
    public func otherwise(name: String = "default", use answer: @escaping @Sendable (any Error) async throws -> T) -> Fallback<T> {
        when(name: name, { _ in true }, use: answer)
    }

    /// Runs `body`; on a matching error, returns the fallback's answer instead.
    public func run(_ operation: String, bus: EventBus? = nil, _ body: @Sendable () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            if error is CancellationError || (error as? RetryError)?.reason == .cancelled || Task.isCancelled { throw error }
            // A rule for `HTTPError` also answers for retries that ended on one.
            let candidates = [error] + ((error as? RetryError).map { [$0.lastError] } ?? [])
            var matched: (rule: Rule, error: any Error)?
            for rule in rules {
                if let candidate = candidates.first(where: rule.matches) {
                    matched = (rule, candidate)
                    break
                }
            }
            guard let (rule, matchedError) = matched else { throw error }
            bus?.emit(FallbackUsed(operation: operation, fallback: rule.name, errorType: String(describing: type(of: error)),
                                   rootErrorType: RootCause.typeNameIfWrapped(error), error: String(describing: error)))
            TimedCall.current?.markAnsweredByFallback()
            return try await rule.answer(matchedError)
        }
    }
}

/// The guide's `graceful_degradation(fallback_value)`: `body`'s result, or `fallback` if it fails
/// (cancellation is rethrown).
public func gracefulDegradation<T: Sendable>(_ operation: String, fallback: T, bus: EventBus? = nil,
                                             _ body: @Sendable () async throws -> T) async throws -> T {
    try await Fallback.value(fallback).run(operation, bus: bus, body)
}

/// The guide's `graceful_degradation(fallback_value)` for synchronous code: `body`'s result, or
/// `fallback` if it throws (a `CancellationError` is rethrown), with the same `fallback.used`
/// event and the same `fallback` outcome for the timed call around it.
public func gracefulDegradation<T>(_ operation: String, fallback: T, bus: EventBus? = nil, _ body: () throws -> T) rethrows -> T {
    do {
        return try body()
    } catch {
        if error is CancellationError { throw error }
        bus?.emit(FallbackUsed(operation: operation, fallback: "value", errorType: String(describing: type(of: error)),
                               rootErrorType: RootCause.typeNameIfWrapped(error), error: String(describing: error)))
        TimedCall.current?.markAnsweredByFallback()
        return fallback
    }
}
