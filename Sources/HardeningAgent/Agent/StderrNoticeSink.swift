// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningLog

/// Writes to standard error, at once, what an operator must see even when standard output is
/// off and the files are what fails: a sink that failed or recovered (with the path and the
/// system's reason) and a sink whose own queue dropped events. One line each, prefixed
/// `hardening agent:`.
final class StderrNoticeSink: EventSink {
    let name = "stderr-notices"
    private static let kinds: Set<EventKind> = [.sinkFailed, .sinkRecovered, .sinkDropped]

    func write(_ events: [Event]) {
        for event in events where Self.kinds.contains(event.kind) && event.attrs["synthetic"] == nil {
            let line = "hardening agent: \(event.level.rawValue): \(event.message)\n"
            line.utf8CString.withUnsafeBytes { bytes in
                // Without the terminating zero.
                _ = StdoutSink.writeAll(2, UnsafeRawBufferPointer(rebasing: bytes.dropLast()))
            }
        }
    }

    func flush() {}
    func close() {}
}
#endif
