import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a container runtime does to a process's standard output before a log agent sees it.
///
/// Docker's log copier (behind the `json-file` and `local` drivers) reads the pipe into a 16 KiB
/// buffer: each newline ends a record; a buffer that fills up without one is written as a
/// *partial* record and the rest of the line follows in the next. containerd's CRI does the same
/// at `max_container_log_line_size` (16384 by default) and writes `P` (partial) or `F` (full) in
/// each line of its log file. This reader does exactly that, live from the pipe, with the
/// stricter of the two rules (the newline counts against the buffer, as in Docker), and renders
/// the records in both files' formats.
struct ContainerLogRuntime {
    /// One record of the runtime's log file.
    struct Record: Equatable {
        /// Whether the line went on in the next record (CRI tag `P`; a json-file `log` without
        /// its trailing newline).
        var partial: Bool
        /// The bytes of the line in this record, without the newline.
        var content: [UInt8]
    }

    /// The copier's buffer, newline included.
    var bufferBytes = 16 * 1024

    /// Reads `descriptor` to its end as the runtime does and returns the records.
    func records(readingFrom descriptor: Int32) -> [Record] {
        var records: [Record] = []
        var buffer = [UInt8](repeating: 0, count: bufferBytes)
        var filled = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, bufferBytes - filled) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                // End of the stream: what is left had no newline, a line cut short.
                if filled > 0 { records.append(Record(partial: true, content: Array(buffer[0..<filled]))) }
                return records
            }
            filled += count
            var start = 0
            while let newline = buffer[start..<filled].firstIndex(of: 0x0A) {
                records.append(Record(partial: false, content: Array(buffer[start..<newline])))
                start = newline + 1
            }
            if start == 0 && filled == bufferBytes {
                records.append(Record(partial: true, content: buffer))
                filled = 0
            } else if start > 0 {
                buffer.replaceSubrange(0..<(filled - start), with: buffer[start..<filled])
                filled -= start
            }
        }
    }

    /// The records as containerd writes them under `/var/log/pods`: `TIME STREAM TAG CONTENT`.
    static func criFile(_ records: [Record]) -> [UInt8] {
        var bytes: [UInt8] = []
        for record in records {
            bytes += Array("2026-12-04T13:00:00.000000000Z stdout \(record.partial ? "P" : "F") ".utf8)
            bytes += record.content
            bytes.append(0x0A)
        }
        return bytes
    }

    /// The records as Docker's `json-file` driver writes them: `{"log":…,"stream":…,"time":…}`,
    /// the `log` of a full record ending in its newline.
    static func dockerJSONFile(_ records: [Record]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for record in records {
            let log = String(decoding: record.content, as: UTF8.self) + (record.partial ? "" : "\n")
            let object: [String: String] = ["log": log, "stream": "stdout", "time": "2026-12-04T13:00:00.000000000Z"]
            bytes += try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            bytes.append(0x0A)
        }
        return bytes
    }
}

/// A log agent without partial-line joining (Promtail's or Vector's defaults, Fluent Bit without
/// a multiline parser): each line of the runtime's file is one log entry, whose text is parsed as
/// JSON on its own.
enum NaiveLogAgent {
    /// The entries of a CRI log file, each parsed as JSON (`nil` where it is not a JSON object).
    static func entries(criFile bytes: [UInt8]) -> [[String: Any]?] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { line in
            // TIME STREAM TAG CONTENT: the content starts after the third space.
            var spaces = 0
            guard let start = line.firstIndex(where: { byte in
                if byte == 0x20 { spaces += 1 }
                return spaces == 3
            }) else { return nil }
            return object(Data(line[(start + 1)...]))
        }
    }

    /// The entries of a Docker json-file log, their `log` parsed as JSON.
    static func entries(dockerJSONFile bytes: [UInt8]) -> [[String: Any]?] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { line in
            guard let record = object(Data(line)), let log = record["log"] as? String else { return nil }
            return object(Data(log.utf8))
        }
    }

    private static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
