/// What happened inside the innermost timed call of the current task, for its outcome: a
/// ``Fallback`` that answers marks it, and the call is recorded as `fallback`, not `success`, so
/// the operations tables tell calls served by a fallback from those that worked.
final class TimedCall: Sendable {
    /// The innermost timed call of the current task, if any.
    @TaskLocal static var current: TimedCall?

    private let answeredByFallback = Locked(false)

    /// A fallback answered for (part of) this call.
    func markAnsweredByFallback() { answeredByFallback.withLock { $0 = true } }

    /// The outcome of a call that returned.
    var outcomeOfReturn: String { answeredByFallback.withLock { $0 } ? TimingRecorded.Outcome.fallback : TimingRecorded.Outcome.success }
}
