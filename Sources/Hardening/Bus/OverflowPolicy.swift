/// What ``EventBus/emit(_:)`` does when the buffer is full.
public enum OverflowPolicy: String, Sendable, CaseIterable {
    /// Drop the event being emitted (the default: the hot path never waits).
    case dropNewest = "drop_newest"
    /// Drop the oldest buffered event to make room.
    case dropOldest = "drop_oldest"
    /// Wait until the drain makes room. The only policy under which `emit` can block.
    case block
}
