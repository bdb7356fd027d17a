// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import NIOCore

/// Holds the agent's HTTP connections to ``maxConnections``: one more sheds the connection that
/// has been idle the longest (waiting for a request, never in the middle of one), or is refused
/// when every connection is busy. So a client that opens thousands of idle connections cannot take
/// every descriptor of the process (which its health probes and files need too), and a real
/// client always gets in while idle ones are held.
package final class ConnectionLimiter: Sendable {
    /// A connection admitted by ``admit(_:)``.
    struct ID: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    /// What the limiter and the connection guards did.
    struct Statistics: Sendable, Hashable {
        /// Connections open now.
        var open = 0
        /// Idle connections closed to make room for a new one.
        var shed: Int64 = 0
        /// New connections closed at once because every connection was busy.
        var refused: Int64 = 0
        /// Connections closed because a request head took longer than the header timeout.
        var headerTimeouts: Int64 = 0
        /// Connections closed because a request took longer than the request timeout.
        var requestTimeouts: Int64 = 0
    }

    private struct Entry {
        var channel: any Channel
        var lastActive: ContinuousClock.Instant
        var busy: Bool
    }

    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var statistics = Statistics()
    }

    /// The most connections held at once.
    let maxConnections: Int
    private let state = ConditionLock(State())

    package init(maxConnections: Int) {
        self.maxConnections = max(1, maxConnections)
    }

    /// Admits `channel`, shedding the longest-idle connection if the limit is reached; `nil` when
    /// every connection is busy (the caller closes `channel`).
    func admit(_ channel: any Channel) -> ID? {
        let (id, shed) = state.withLock { state -> (ID?, (any Channel)?) in
            var shed: (any Channel)?
            if state.entries.count >= maxConnections {
                let oldestIdle = state.entries.filter { !$0.value.busy }.min { $0.value.lastActive < $1.value.lastActive }
                guard let oldestIdle else {
                    state.statistics.refused += 1
                    return (nil, nil)
                }
                state.entries[oldestIdle.key] = nil
                state.statistics.shed += 1
                shed = oldestIdle.value.channel
            }
            state.next += 1
            state.entries[state.next] = Entry(channel: channel, lastActive: .now, busy: false)
            state.statistics.open = state.entries.count
            return (ID(value: state.next), shed)
        }
        shed?.close(promise: nil)
        return id
    }

    /// `id` began (`busy`) or finished a request.
    func setBusy(_ id: ID, _ busy: Bool) {
        state.withLock { state in
            state.entries[id.value]?.busy = busy
            state.entries[id.value]?.lastActive = .now
        }
    }

    /// `id` closed.
    func remove(_ id: ID) {
        state.withLock { state in
            state.entries[id.value] = nil
            state.statistics.open = state.entries.count
        }
    }

    /// A connection was closed by one of its timeouts.
    func countTimeout(header: Bool) {
        state.withLock { state in
            if header { state.statistics.headerTimeouts += 1 } else { state.statistics.requestTimeouts += 1 }
        }
    }

    /// What happened so far.
    var statistics: Statistics { state.withLock { $0.statistics } }
}
#endif
