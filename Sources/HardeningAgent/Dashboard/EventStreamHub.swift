// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningLog
import NIOCore

/// The bus's events as server-sent events, for `/events/stream` and the live dashboard.
///
/// It is a sink of the bus, so it has the bus's own queue and thread for it like every sink: a
/// slow hub drops only its own events, never blocks an emitter. Each batch is encoded once (the
/// JSON line of the file and stdout sinks, redacted by the bus) and handed to every client whose
/// ``EventKindFilter`` wants it, into that client's queue. A client's queue is bounded in bytes
/// (``Configuration/clientQueueBytes``): a client that reads slower than events come (or not at
/// all) fills it and is **dropped**, its connection closed and counted in
/// ``Statistics/dropped``, so one slow reader never holds memory or the others back. Every
/// ``Configuration/heartbeat`` a comment line goes to every client, so that proxies keep idle
/// streams open and a vanished client is noticed.
public final class EventStreamHub: EventSink, Sendable {
    /// Limits of the stream.
    public struct Configuration: Sendable {
        /// The most clients at once; more are answered 503.
        public var maxClients = 64
        /// The most bytes queued for one client before it is dropped.
        public var clientQueueBytes = 1 << 20
        /// How often a comment line goes to every client.
        public var heartbeat: Duration = .seconds(15)
        /// Events longer than this as JSON are shortened and marked `truncated`, as on stdout.
        public var maxLineBytes = StdoutSink.defaultMaxLineBytes

        /// The defaults.
        public init() {}
    }

    /// What the hub did, for `/metrics`.
    public struct Statistics: Sendable, Hashable {
        /// Clients connected now.
        public var clients = 0
        /// Clients ever connected.
        public var connected: Int64 = 0
        /// Clients dropped because their queue was full.
        public var dropped: Int64 = 0
        /// Clients refused because ``Configuration/maxClients`` were connected.
        public var refused: Int64 = 0
        /// Events queued for clients (one per client that wanted it).
        public var eventsQueued: Int64 = 0
        /// Bytes queued for clients now, not yet written to their connections.
        public var queuedBytes = 0
    }

    /// Why a client's stream ended.
    package enum Ending: Sendable, Equatable {
        /// Its queue was full.
        case dropped
        /// The hub closed (graceful shutdown).
        case closed
        /// The client went away.
        case left
    }

    public let name = "events-stream"
    /// The limits.
    public let configuration: Configuration
    private let encoder: JSONLineEncoder
    private let state = ConditionLock(State())

    private struct State {
        var clients: [Int: Client] = [:]
        var nextID = 0
        var statistics = Statistics()
        var isClosed = false
        var lastHeartbeat: Timestamp?
        var context: SinkContext?
    }

    /// Creates a hub; add it to the bus's sinks.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.encoder = JSONLineEncoder(maxLineBytes: configuration.maxLineBytes)
    }

    /// What the hub did so far.
    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.clients = state.clients.count
            statistics.queuedBytes = state.clients.values.reduce(0) { $0 + $1.queuedBytes }
            return statistics
        }
    }

    /// One connected client: its queue of frames, bounded in bytes, and how it ended.
    package final class Client: Sendable {
        package let id: Int
        package let filter: EventKindFilter
        /// Frames to write, in order.
        package let frames: AsyncStream<ByteBuffer>
        private let framesContinuation: AsyncStream<ByteBuffer>.Continuation
        /// Yields once, when the client ends.
        package let ending: AsyncStream<Ending>
        private let endingContinuation: AsyncStream<Ending>.Continuation
        private let queued = ConditionLock<(bytes: Int, ended: Ending?)>((0, nil))

        init(id: Int, filter: EventKindFilter) {
            self.id = id
            self.filter = filter
            (frames, framesContinuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            (ending, endingContinuation) = AsyncStream.makeStream(of: Ending.self)
        }

        /// Queues `frame` unless that would pass `limit` bytes: then the client is ended as dropped
        /// and `false` returned.
        func enqueue(_ frame: ByteBuffer, limit: Int) -> Bool {
            let accepted = queued.withLock { queued -> Bool? in
                guard queued.ended == nil else { return nil }
                guard queued.bytes + frame.readableBytes <= limit else {
                    queued.ended = .dropped
                    return false
                }
                queued.bytes += frame.readableBytes
                return true
            }
            switch accepted {
            case true?:
                framesContinuation.yield(frame)
                return true
            case false?:
                finish(.dropped)
                return false
            case nil:
                return true
            }
        }

        /// Bytes queued and not yet written.
        package var queuedBytes: Int { queued.withLock { $0.bytes } }

        /// The writer wrote `bytes` of the queue.
        package func wrote(_ bytes: Int) {
            queued.withLock { $0.bytes -= bytes }
        }

        /// Ends the client (the first reason counts): no more frames are queued; those queued are
        /// still there for the writer.
        func finish(_ reason: Ending) {
            let first = queued.withLock { queued -> Ending in
                if queued.ended == nil { queued.ended = reason }
                return queued.ended!
            }
            framesContinuation.finish()
            endingContinuation.yield(first)
            endingContinuation.finish()
        }
    }

    /// Connects a client for `filter`'s kinds, or `nil` if ``Configuration/maxClients`` are
    /// connected or the hub is closed. The first frame says when to reconnect.
    package func connect(filter: EventKindFilter) -> Client? {
        let client = state.withLock { state -> Client? in
            guard !state.isClosed, state.clients.count < configuration.maxClients else {
                state.statistics.refused += 1
                return nil
            }
            state.nextID += 1
            let client = Client(id: state.nextID, filter: filter)
            state.clients[client.id] = client
            state.statistics.connected += 1
            return client
        }
        _ = client?.enqueue(ByteBuffer(string: "retry: 3000\n: connected, kinds \(filter)\n\n"), limit: configuration.clientQueueBytes)
        return client
    }

    /// Removes a client whose stream ended.
    package func disconnect(_ client: Client, _ reason: Ending) {
        client.finish(reason)
        state.withLock { _ = $0.clients.removeValue(forKey: client.id) }
    }

    public func start(context: SinkContext) {
        state.withLock { $0.context = context }
    }

    public func write(_ events: [Event]) {
        let clients = state.withLock { Array($0.clients.values) }
        guard !clients.isEmpty else { return }
        // Each event is encoded once, and only if some client wants it.
        var frames: [ByteBuffer?] = Array(repeating: nil, count: events.count)
        var queued: Int64 = 0
        var dropped: [Client] = []
        for client in clients {
            var batch = ByteBuffer()
            for (index, event) in events.enumerated() where client.filter.matches(event.kind) {
                if frames[index] == nil { frames[index] = frame(event) }
                var frame = frames[index]!
                batch.writeBuffer(&frame)
                queued += 1
            }
            guard batch.readableBytes > 0 else { continue }
            if !client.enqueue(batch, limit: configuration.clientQueueBytes) { dropped.append(client) }
        }
        let context = state.withLock { state -> SinkContext? in
            state.statistics.eventsQueued += queued
            state.statistics.dropped += Int64(dropped.count)
            for client in dropped { state.clients.removeValue(forKey: client.id) }
            return state.context
        }
        for client in dropped {
            context?.report(LogMessage(logger: "hardening.agent", source: name,
                                       text: "event stream client \(client.id) (kinds \(client.filter)) dropped: more than \(configuration.clientQueueBytes) bytes waited for it"),
                            level: .warning)
        }
    }

    /// `id: run-seq` and the event's JSON line as `data`.
    private func frame(_ event: Event) -> ByteBuffer {
        var line = encoder.encode(event)
        if line.last == 0x0A { line.removeLast() }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(line.count + 48)
        buffer.writeString("id: \(event.run)-\(event.seq)\ndata: ")
        buffer.writeBytes(line)
        buffer.writeString("\n\n")
        return buffer
    }

    public func tick(now: Timestamp) {
        let clients = state.withLock { state -> [Client] in
            if let last = state.lastHeartbeat, now.microsecondsSinceEpoch - last.microsecondsSinceEpoch < configuration.heartbeat.microseconds {
                return []
            }
            state.lastHeartbeat = now
            return Array(state.clients.values)
        }
        var dropped: [Client] = []
        for client in clients where !client.enqueue(ByteBuffer(string: ": keepalive \(now)\n\n"), limit: configuration.clientQueueBytes) {
            dropped.append(client)
        }
        guard !dropped.isEmpty else { return }
        state.withLock { state in
            state.statistics.dropped += Int64(dropped.count)
            for client in dropped { state.clients.removeValue(forKey: client.id) }
        }
    }

    public func flush() {}

    /// Ends every client's stream (they are sent what was queued) and refuses new ones.
    public func close() {
        let clients = state.withLock { state -> [Client] in
            state.isClosed = true
            defer { state.clients.removeAll() }
            return Array(state.clients.values)
        }
        for client in clients { client.finish(.closed) }
    }
}

extension Duration {
    fileprivate var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
#endif
