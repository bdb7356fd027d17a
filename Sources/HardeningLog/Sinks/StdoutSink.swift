#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// Writes each event as one JSON line to standard output (or another descriptor), one `write`
/// per batch: what container log drivers and `kubectl logs` expect.
///
/// With ``Format/human(colors:)`` (or ``Format/automatic(colors:)`` on a terminal) it writes a
/// readable line instead, coloured by level when asked. A failing descriptor (closed pipe, full
/// disk behind a redirect) never stops the application: the sink reports `sink.failed`, counts
/// the events it could not write, and reports `sink.recovered` when writes succeed again.
/// The process should ignore `SIGPIPE` (the `hardening` executable does) so that a closed pipe
/// is an `EPIPE` error rather than a signal.
public final class StdoutSink: EventSink {
    /// How lines look.
    public enum Format: Sendable, Hashable {
        /// One JSON object a line (the default).
        case json
        /// `time level kind message key=value…`; `colors: true` colours by level when the
        /// descriptor is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`
        /// (https://no-color.org), never in a pipe or a file.
        case human(colors: Bool)
        /// `human` when the descriptor is a terminal, `json` otherwise.
        case automatic(colors: Bool)
    }

    /// Whether level colours may be written to `descriptor`: a terminal, with `NO_COLOR` unset or
    /// empty and `TERM` not `dumb`. `environment` reads a variable (the process's by default).
    public static func colorsAllowed(on descriptor: Int32,
                                     environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) -> Bool {
        guard isatty(descriptor) == 1 else { return false }
        if let noColor = environment("NO_COLOR"), !noColor.isEmpty { return false }
        return environment("TERM") != "dumb"
    }

    private struct State {
        var buffer: [UInt8] = []
        var failure = SinkFailureTracker()
        var context: SinkContext?
    }

    public let name: String
    public let minimumLevel: EventLevel
    private let descriptor: Int32
    private let format: Format
    private let encoder: JSONLineEncoder
    private let state = Locked(State())

    /// The default longest line, newline included: 16 KiB. Container runtimes split longer lines
    /// into partial records (Docker's `json-file` and `local` drivers at 16 KiB, containerd's CRI
    /// at `max_container_log_line_size`, 16384 by default), which a log agent without partial-line
    /// joining receives as two halves, neither of them JSON. A longer event is shortened and
    /// marked `"truncated":true`, as the file sink does with its own (32 KiB) cap.
    public static let defaultMaxLineBytes = 16 * 1024

    /// Creates the sink over `descriptor` (standard output by default), writing events at
    /// `minimumLevel` and above (every event by default); `environment` reads the variables that
    /// decide colours (`NO_COLOR`, `TERM`; the process's by default).
    public init(descriptor: Int32 = 1, format: Format = .json, maxLineBytes: Int = StdoutSink.defaultMaxLineBytes, name: String = "stdout",
                minimumLevel: EventLevel = .trace,
                environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) {
        self.descriptor = descriptor
        self.minimumLevel = minimumLevel
        self.name = name
        self.encoder = JSONLineEncoder(maxLineBytes: maxLineBytes)
        switch format {
        case .automatic(let colors):
            self.format = isatty(descriptor) == 1 ? .human(colors: colors && Self.colorsAllowed(on: descriptor, environment: environment)) : .json
        case .human(let colors):
            self.format = .human(colors: colors && Self.colorsAllowed(on: descriptor, environment: environment))
        case .json:
            self.format = .json
        }
    }

    /// Counts of what the sink could not write.
    public var lostEvents: Int64 { state.withLock { $0.failure.totalLost } }

    public func start(context: SinkContext) {
        state.withLock { $0.context = context }
    }

    public func write(_ events: [Event]) {
        state.withLock { state in
            state.buffer.removeAll(keepingCapacity: true)
            for event in events {
                switch format {
                case .json, .automatic: encoder.append(event, to: &state.buffer)
                case .human(let colors): HumanFormatter.append(event, colors: colors, to: &state.buffer)
                }
            }
            let result = state.buffer.withUnsafeBytes { StdoutSink.writeAll(descriptor, $0) }
            let now = state.context?.clock.now() ?? SystemWallClock().now()
            switch result {
            case nil:
                if let recovered = state.failure.succeeded(at: now, sink: name) { state.context?.report(recovered) }
            case let code?:
                let error = FileSystemError(code: code, operation: "write", path: name)
                state.failure.lost(events: events.count)
                if let failed = state.failure.failed(at: now, sink: name, error: error.description, errno: code, events: events.count) {
                    state.context?.report(failed)
                }
            }
        }
    }

    public func flush() {}

    public func close() {}

    /// Writes everything, retrying short writes and `EINTR`/`EAGAIN`; returns errno on failure.
    package static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        var spins = 0
        while offset < bytes.count {
            let written = SystemCalls.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written > 0 {
                offset += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && spins < 1000 {
                spins += 1
                var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptorSet, 1, 10)
                continue
            }
            return written < 0 ? errno : EIO
        }
        return nil
    }
}
