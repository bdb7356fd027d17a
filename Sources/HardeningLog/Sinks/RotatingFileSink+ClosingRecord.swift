#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

// The run's closing record (`file.closed`) and the space reserve that makes room for it.
extension RotatingFileSink {
    /// A hidden file of ``reserveBytes`` kept while the sink runs; removed at shutdown to make
    /// room for the closing record when the disk is full.
    var reservePath: String { configuration.directory + "/." + configuration.baseName + ".reserve" }
    /// The directory's lock file (``DirectoryLock``).
    var lockPath: String { DirectoryLock.path(directory: configuration.directory, baseName: configuration.baseName) }
    static let reserveBytes = 64 << 10

    func makeReserve() {
        guard let descriptor = try? fileSystem.open(reservePath, flags: O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: configuration.fileMode)
        else { return }
        defer { fileSystem.close(descriptor) }
        let zeros = [UInt8](repeating: 0, count: Self.reserveBytes)
        _ = zeros.withUnsafeBytes { try? fileSystem.write(descriptor, $0, path: reservePath) }
    }

    /// The last line of the run's last file (`file.closed`, seq 0): the highest `seq` written and
    /// received and the events lost, so that `replay` sees a lost tail. On a full disk the reserve
    /// is given up to make room for it.
    func writeClosingRecord(_ state: inout State, now: Timestamp) {
        guard let context = state.context, state.lastReceivedSeq > 0, state.refusal == nil else { return }
        if state.descriptor == nil {
            openActive(&state, now: now, firstSeq: state.lastReceivedSeq + 1)
            if state.descriptor == nil { adoptReserve(&state, now: now, firstSeq: state.lastReceivedSeq + 1) }
            guard state.descriptor != nil else { return }
        }
        let payload = FileClosed(lastSeqWritten: Int64(state.lastWrittenSeq), lastSeqReceived: Int64(state.lastReceivedSeq),
                                 lostEvents: state.failure.totalLost, reason: "shutdown")
        let record = Event(timestamp: now, level: payload.lostEvents > 0 ? .error : .info, kind: FileClosed.kind, message: payload.message,
                           service: context.service, host: context.host, run: context.run, seq: 0, attrs: payload.attributes)
        if appendRecord(record, &state) != nil {
            try? fileSystem.remove(reservePath)
            if state.descriptor != nil { _ = appendRecord(record, &state) }
        }
    }

    /// The closing record's last resort when no file can be created (the inodes used up): the
    /// reserve becomes the next file by a rename (which takes no inode), emptied of its zeros.
    func adoptReserve(_ state: inout State, now: Timestamp, firstSeq: UInt64) {
        let path: String
        switch configuration.layout {
        case .rename:
            guard ((try? fileSystem.info(configuration.activePath)) ?? nil) == nil else { return }
            path = configuration.activePath
        case .segments:
            let segment = newSegment(&state, now: now)
            path = configuration.directory + "/" + segment.name
            maintenance.setActiveSegment(segment.name)
        }
        do throws(FileSystemError) {
            try fileSystem.rename(reservePath, to: path)
            let descriptor = try fileSystem.open(path, flags: O_WRONLY | O_APPEND | O_NOFOLLOW, mode: configuration.fileMode)
            do throws(FileSystemError) {
                try fileSystem.truncate(descriptor, to: 0, path: path)
            } catch {
                fileSystem.close(descriptor)
                throw error
            }
            try adopt(descriptor, path: path, &state, now: now, firstSeq: firstSeq)
        } catch {
            if let descriptor = state.descriptor { fileSystem.close(descriptor) }
            state.descriptor = nil
            // Zeros under a log file's name would read as damage: back to the hidden name.
            if ((try? fileSystem.info(path)) ?? nil)?.size == Int64(Self.reserveBytes) { try? fileSystem.rename(path, to: reservePath) }
        }
    }

    /// Appends one line the sink writes itself (a header or a closing record), as one gzip
    /// member in gzip-stream files.
    func appendRecord(_ record: Event, _ state: inout State) -> FileSystemError? {
        var line: [UInt8] = []
        encoder.append(record, to: &line)
        guard let compressor = state.compressor else { return append(&state, line) }
        var member: [UInt8] = []
        compressor.compressMember(line, into: &member)
        return append(&state, member)
    }
}
