import Hardening

/// Encodes events as JSON lines, byte by byte, with the envelope keys in a fixed order.
///
/// Every control character is escaped (also DEL, U+2028 and U+2029), so one event is always
/// one line. Swift strings are valid UTF-8 by construction (invalid bytes were repaired when the
/// string was made), so the output is valid UTF-8. A line longer than ``maxLineBytes`` is made
/// to fit by shortening string values (and, as a last resort, dropping attrs); such an event
/// carries `"truncated":true`.
public struct JSONLineEncoder: Sendable {
    /// The longest line written, newline included. Defaults to 32 KiB, under the smallest common
    /// tailer limit.
    public var maxLineBytes: Int

    /// Creates an encoder.
    public init(maxLineBytes: Int = 32 * 1024) {
        self.maxLineBytes = max(512, maxLineBytes)
    }

    /// The event as one line, newline included.
    public func encode(_ event: Event) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        append(event, to: &bytes)
        return bytes
    }

    /// Appends the event as one line (newline included) to `bytes`. Returns whether the event
    /// had to be truncated to fit.
    @discardableResult
    public func append(_ event: Event, to bytes: inout [UInt8]) -> Bool {
        let start = bytes.count
        JSONLineEncoder.write(event, truncated: event.truncated, stringLimit: .max, dropAttrs: false, to: &bytes)
        guard bytes.count - start > maxLineBytes else { return event.truncated }
        var limit = maxLineBytes / 2
        while limit >= 64 {
            bytes.removeSubrange(start...)
            JSONLineEncoder.write(event, truncated: true, stringLimit: limit, dropAttrs: false, to: &bytes)
            if bytes.count - start <= maxLineBytes { return true }
            limit /= 2
        }
        // Too many keys for any string limit: keep the envelope, say how many attrs were dropped.
        bytes.removeSubrange(start...)
        JSONLineEncoder.write(event, truncated: true, stringLimit: 256, dropAttrs: true, to: &bytes)
        if bytes.count - start <= maxLineBytes { return true }
        bytes.removeSubrange(start...)
        JSONLineEncoder.write(event, truncated: true, stringLimit: 16, dropAttrs: true, to: &bytes)
        return true
    }

    // MARK: - Writing

    static func write(_ event: Event, truncated: Bool, stringLimit: Int, dropAttrs: Bool, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"timestamp":""#.utf8)
        event.timestamp.appendRFC3339(to: &bytes)
        bytes.append(contentsOf: #"","level":""#.utf8)
        bytes.append(contentsOf: event.level.rawValue.utf8)
        bytes.append(contentsOf: #"","event":"#.utf8)
        JSONBytes.appendString(event.kind.rawValue, limit: stringLimit, to: &bytes)
        bytes.append(contentsOf: #","message":"#.utf8)
        JSONBytes.appendString(event.message, limit: stringLimit, to: &bytes)
        bytes.append(contentsOf: #","service":"#.utf8)
        JSONBytes.appendString(event.service, limit: stringLimit, to: &bytes)
        bytes.append(contentsOf: #","host":"#.utf8)
        JSONBytes.appendString(event.host, limit: stringLimit, to: &bytes)
        bytes.append(contentsOf: #","run":"#.utf8)
        JSONBytes.appendString(event.run, limit: stringLimit, to: &bytes)
        bytes.append(contentsOf: #","seq":"#.utf8)
        JSONBytes.appendInteger(UInt64(event.seq), negative: false, to: &bytes)
        if let traceID = event.traceID {
            bytes.append(contentsOf: #","trace_id":"#.utf8)
            JSONBytes.appendString(traceID, limit: 64, to: &bytes)
        }
        if let spanID = event.spanID {
            bytes.append(contentsOf: #","span_id":"#.utf8)
            JSONBytes.appendString(spanID, limit: 64, to: &bytes)
        }
        if truncated {
            bytes.append(contentsOf: #","truncated":true"#.utf8)
        }
        bytes.append(contentsOf: #","attrs":"#.utf8)
        if dropAttrs {
            bytes.append(contentsOf: #"{"dropped_keys":"#.utf8)
            JSONBytes.appendInteger(UInt64(event.attrs.count), negative: false, to: &bytes)
            bytes.append(UInt8(ascii: "}"))
        } else {
            JSONBytes.appendObject(event.attrs, limit: stringLimit, depth: 0, to: &bytes)
        }
        if !event.extra.isEmpty, !dropAttrs {
            for (key, value) in event.extra {
                bytes.append(UInt8(ascii: ","))
                JSONBytes.appendString(key, limit: stringLimit, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                JSONBytes.appendValue(value, limit: stringLimit, depth: 0, to: &bytes)
            }
        }
        bytes.append(contentsOf: "}\n".utf8)
    }
}
