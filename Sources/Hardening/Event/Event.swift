/// One structured event: the envelope of docs/design.md and the kind's own `attrs`.
///
/// Producers fill `level`, `kind`, `message` and `attrs` (usually from an ``EventPayload``); the
/// ``EventBus`` stamps `timestamp` at emit time and `service`, `host`, `run` and `seq` when it
/// delivers the event. Decoded events keep envelope fields they do not know in ``extra``.
public struct Event: Sendable, Hashable {
    /// When the event was emitted (UTC, microseconds).
    public var timestamp: Timestamp
    /// Severity, with swift-log's names.
    public var level: EventLevel
    /// The dotted kind, for example `breaker.state_changed`.
    public var kind: EventKind
    /// A human sentence.
    public var message: String
    /// The service that emitted the event.
    public var service: String
    /// The host that emitted the event.
    public var host: String
    /// A random id per process start.
    public var run: String
    /// Counts up from 1 per run with no hole; 0 for per-file headers (`file.opened`).
    public var seq: UInt64
    /// W3C trace id (32 hex) when a trace context was present.
    public var traceID: String?
    /// W3C span id (16 hex) when a trace context was present.
    public var spanID: String?
    /// Set when the encoder shortened values to keep the line under the maximum line size.
    public var truncated: Bool
    /// The kind's own fields.
    public var attrs: Attributes
    /// Envelope fields this version does not know, kept so that old readers keep new data.
    public var extra: Attributes

    /// Creates an event.
    public init(
        timestamp: Timestamp,
        level: EventLevel,
        kind: EventKind,
        message: String,
        service: String = "",
        host: String = "",
        run: String = "",
        seq: UInt64 = 0,
        traceID: String? = nil,
        spanID: String? = nil,
        truncated: Bool = false,
        attrs: Attributes = Attributes(),
        extra: Attributes = Attributes()
    ) {
        self.timestamp = timestamp
        self.level = level
        self.kind = kind
        self.message = message
        self.service = service
        self.host = host
        self.run = run
        self.seq = seq
        self.traceID = traceID
        self.spanID = spanID
        self.truncated = truncated
        self.attrs = attrs
        self.extra = extra
    }

    /// Decodes the attrs as a typed payload of the matching kind.
    public func payload<P: EventPayload>(as type: P.Type) throws(PayloadDecodingError) -> P {
        guard kind == P.kind else {
            throw PayloadDecodingError(kind: kind, field: "event", problem: "expected kind \(P.kind)")
        }
        return try P(attributes: attrs)
    }
}

extension Event {
    /// About how many bytes the event takes in memory: its fixed size, its message and its
    /// attrs at a typical size each. An estimate in constant time (no walk of nested values),
    /// for the byte bounds of the bus and the sink queues; it undercounts long attr strings.
    @inlinable
    public var estimatedBytes: Int {
        MemoryLayout<Event>.stride + 64 + message.utf8.count + (attrs.count + extra.count) * Self.estimatedBytesPerAttr
    }

    /// What one attr is taken to cost: the pair's storage and a short heap string.
    @usableFromInline
    static let estimatedBytesPerAttr = MemoryLayout<(key: String, value: AttributeValue)>.stride + 48
}
