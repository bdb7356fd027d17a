#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

// The writer thread's writes: whole lines in chunks, a failure counted and cut back to the last
// whole line, a backlog kept within the size limit.
extension RotatingFileSink {
    /// The most bytes of whole lines handed to one `write` (or one gzip member): small enough
    /// that a file near a size limit still takes whole chunks before it rotates, large enough
    /// that gzip members compress well.
    var maxChunkBytes: Int {
        if configuration.format == .gzipStream { return 1 << 20 }
        // A quarter of a small file, so that a backlog fills files to their limit, chunk by chunk.
        return min(64 << 10, max(4 << 10, Int(clamping: (configuration.maxFileBytes ?? .max) / 4)))
    }

    /// The most rotations one write makes past the minimum interval to keep a backlog within
    /// the size limit (a `maxFileBytes` far below the backlog makes larger files beyond them).
    static let maxRotationsCatchingUp = 64

    func writeBuffer(_ state: inout State, now: Timestamp) {
        guard let firstSeq = state.buffer.firstSeq else { return }
        if let refusal = state.refusal {
            fail(&state, now: now, error: refusal, errno: ELOOP)
            return
        }
        let before = state.machine.beforeWriting(isOpen: state.descriptor != nil, bufferedBytes: state.buffer.byteCount, now: now)
        guard execute(before, &state, now: now, firstSeq: firstSeq) else { return }
        var rotatedForSpace = false
        var chunksWritten = 0
        var rotationsCatchingUp = 0
        while !state.buffer.isEmpty {
            let chunk = state.buffer.prefix(maxBytes: maxChunkBytes)
            if chunksWritten > 0, let nextSeq = state.buffer.firstSeq {
                // More than one chunk: a backlog. Each chunk keeps the size limit.
                let catchingUp = configuration.layout == .segments && rotationsCatchingUp < Self.maxRotationsCatchingUp
                let next = state.machine.beforeWriting(isOpen: state.descriptor != nil, bufferedBytes: chunk.bytes, now: now,
                                                       catchingUp: catchingUp)
                if !next.isEmpty { rotationsCatchingUp += 1 }
                guard execute(next, &state, now: now, firstSeq: nextSeq) else { return }
            }
            state.output.removeAll(keepingCapacity: true)
            let bytes: [UInt8]
            if let compressor = state.compressor {
                state.buffer.bytes.withUnsafeBytes {
                    compressor.compressMember(UnsafeRawBufferPointer(rebasing: $0[0..<chunk.bytes]), into: &state.output)
                }
                bytes = state.output
            } else if chunk.bytes == state.buffer.byteCount {
                bytes = state.buffer.bytes
            } else {
                bytes = Array(state.buffer.bytes[0..<chunk.bytes])
            }
            if let error = append(&state, bytes) {
                fail(&state, now: now, error: error.description, errno: error.code)
                // A file at its size limit (RLIMIT_FSIZE, EFBIG): a new file is the remedy.
                if error.code == EFBIG, !rotatedForSpace, let nextSeq = state.buffer.firstSeq {
                    let remedy = state.machine.afterFileTooLarge(now: now)
                    if !remedy.isEmpty {
                        rotatedForSpace = true
                        if execute(remedy, &state, now: now, firstSeq: nextSeq) { continue }
                    }
                }
                return
            }
            state.machine.appended(lines: chunk.lines)
            state.writtenEvents += Int64(chunk.lines)
            state.lastWrittenSeq = chunk.lastSeq
            state.buffer.removeFirst(lines: chunk.lines)
            chunksWritten += 1
            rotatedForSpace = false  // progress was made: a further full file may rotate again
            if let recovered = state.failure.succeeded(at: now, sink: name) { state.context?.report(recovered) }
        }
    }

    /// Counts a failed write; keeps the buffer to retry, trimmed to the retention limit by
    /// dropping the newest whole lines.
    func fail(_ state: inout State, now: Timestamp, error: String, errno: Int32) {
        state.failedWrites += 1
        if let payload = state.failure.failed(at: now, sink: name, error: error, errno: errno, events: state.buffer.count) {
            state.context?.report(payload)
        }
        let dropped = state.buffer.trim(toBytes: configuration.maxRetainedBytesOnFailure)
        state.failure.lost(events: dropped)
    }

    /// Appends bytes with one `write`. A short write is continued (POSIX allows them); if the
    /// rest fails, the file is cut back to where it was, so no partial line remains.
    func append(_ state: inout State, _ bytes: [UInt8]) -> FileSystemError? {
        let path = state.activeFile ?? configuration.activePath
        guard let descriptor = state.descriptor else {
            return FileSystemError(code: EBADF, operation: "write", path: path)
        }
        var offset = 0
        var failure: FileSystemError?
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                do throws(FileSystemError) {
                    let written = try fileSystem.write(descriptor, UnsafeRawBufferPointer(rebasing: raw[offset...]), path: path)
                    guard written > 0 else {
                        failure = FileSystemError(code: ENOSPC, operation: "write (no progress)", path: path)
                        return
                    }
                    offset += written
                } catch {
                    failure = error
                    return
                }
            }
        }
        guard let failure else {
            state.machine.appended(bytes: bytes.count)
            return nil
        }
        // The write may have appended part of the bytes: cut back to the last whole line.
        try? fileSystem.truncate(descriptor, to: state.machine.activeSize, path: path)
        if failure.code == EBADF || failure.code == EIO || failure.code == ESTALE {
            fileSystem.close(descriptor)
            state.descriptor = nil
        }
        return failure
    }
}
