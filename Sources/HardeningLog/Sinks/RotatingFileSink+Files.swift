#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

// The writer thread's files: opening the next one, rotation, the stable name, segment names.
extension RotatingFileSink {
    func openActive(_ state: inout State, now: Timestamp, firstSeq: UInt64) {
        do throws(FileSystemError) {
            let (descriptor, path) = try createActiveFile(&state, now: now)
            try adopt(descriptor, path: path, &state, now: now, firstSeq: firstSeq)
        } catch {
            if let descriptor = state.descriptor { fileSystem.close(descriptor) }
            state.descriptor = nil
            if error.code == ELOOP { state.refusal = error.description }
            fail(&state, now: now, error: error.description, errno: error.code)
        }
    }

    /// Opens the file to write next: the fixed active file (rename layout) or a new segment.
    func createActiveFile(_ state: inout State, now: Timestamp) throws(FileSystemError) -> (descriptor: Int32, path: String) {
        try fileSystem.makeDirectory(configuration.directory, mode: configuration.directoryMode)
        switch configuration.layout {
        case .rename:
            let path = configuration.activePath
            if let existing = try fileSystem.info(path), existing.isSymbolicLink {
                throw FileSystemError(code: ELOOP, operation: "open (refusing to follow a symlink)", path: path)
            }
            return (try fileSystem.open(path, flags: O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode: configuration.fileMode), path)
        case .segments:
            // A name that is new, so a tailer that saw the previous file sees a new one.
            let segment = newSegment(&state, now: now)
            let path = configuration.directory + "/" + segment.name
            // Named before it exists, so retention never takes it for a closed segment.
            maintenance.setActiveSegment(segment.name)
            return (try fileSystem.open(path, flags: O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, mode: configuration.fileMode), path)
        }
    }

    /// Makes an opened file the active one and writes its header.
    func adopt(_ descriptor: Int32, path: String, _ state: inout State, now: Timestamp, firstSeq: UInt64) throws(FileSystemError) {
        try? fileSystem.changeMode(descriptor, configuration.fileMode, path: path)
        state.descriptor = descriptor
        state.activeFile = path
        state.machine.opened(size: try fileSystem.info(path)?.size ?? 0, at: now)
        if configuration.fsync != .never { try? fileSystem.syncDirectory(configuration.directory) }
        writeHeader(&state, now: now, firstSeq: firstSeq)
        if configuration.layout == .segments {
            if state.machine.activeLines == 1 { pointStableName(&state, at: Self.fileName(path)) }
            maintenance.submit(.retention)
        }
    }

    /// Rotation in the `segments` layout: the next segment is created before the current one is
    /// closed. A directory that cannot take a new file (its inodes or the quota used up) keeps
    /// the current file open past its limit, rather than losing every event until it can: the
    /// problem is reported once, and the rotation is tried again at the next write.
    func rotateIntoNewSegment(_ state: inout State, now: Timestamp, reason: FileSinkStateMachine.RotationReason, firstSeq: UInt64) {
        let current = state.activeFile.map(Self.fileName)
        let next: (descriptor: Int32, path: String)
        do throws(FileSystemError) {
            next = try createActiveFile(&state, now: now)
        } catch {
            if let current { maintenance.setActiveSegment(current) }
            if !state.rotationDeferred {
                state.rotationDeferred = true
                let into = current ?? "the current file"
                state.context?.report(SinkFailed(sink: name, error: "no new file can be made (\(error)); events go on into \(into) past its size limit",
                                                 errno: Int64(error.code), failedEvents: 0))
            }
            return
        }
        state.rotationDeferred = false
        rotate(&state, now: now, reason: reason)
        do throws(FileSystemError) {
            try adopt(next.descriptor, path: next.path, &state, now: now, firstSeq: firstSeq)
        } catch {
            fileSystem.close(next.descriptor)
            state.descriptor = nil
            fail(&state, now: now, error: error.description, errno: error.code)
        }
    }

    /// Points the stable name (`events.jsonl`) at `segment`: a new link under a temporary name,
    /// renamed over the old one, so that the name always resolves. It is a convenience for
    /// `tail -F` and people; if it cannot be made, events are still written (and the problem is
    /// reported once).
    func pointStableName(_ state: inout State, at segment: String) {
        let temporary = configuration.activePath + ".link.tmp"
        do throws(FileSystemError) {
            try fileSystem.remove(temporary)
            try fileSystem.makeSymbolicLink(segment, at: temporary)
            try fileSystem.rename(temporary, to: configuration.activePath)
        } catch {
            try? fileSystem.remove(temporary)
            guard !state.linkProblemReported else { return }
            state.linkProblemReported = true
            state.context?.report(SinkFailed(sink: name, error: "events are written, but \(configuration.activePath) cannot point at "
                                                 + "\(segment): \(error)", errno: Int64(error.code), failedEvents: 0))
        }
    }

    static func fileName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    func writeHeader(_ state: inout State, now: Timestamp, firstSeq: UInt64) {
        guard let context = state.context else { return }
        var random = SystemRandomNumberGenerator()
        let payload = FileOpened(fileID: RunID.hex(random.next()), firstSeq: Int64(firstSeq),
                                 path: configuration.layout == .segments ? Self.fileName(state.activeFile ?? "") : configuration.activeName,
                                 format: configuration.format == .gzipStream ? "jsonl.gz" : "jsonl",
                                 layout: configuration.layout.rawValue,
                                 minLevel: configuration.minimumLevel > .trace ? configuration.minimumLevel.name : nil)
        let header = Event(timestamp: now, level: .info, kind: FileOpened.kind, message: payload.message,
                           service: context.service, host: context.host, run: context.run, seq: 0,
                           attrs: payload.attributes)
        if let error = appendRecord(header, &state) {
            fail(&state, now: now, error: error.description, errno: error.code)
        } else {
            state.machine.appended(lines: 1)
        }
    }

    /// Closes the file being written: it becomes a closed segment, compressed after the delay.
    /// In the `rename` layout (and for a leftover active file of that layout found at start-up)
    /// the fixed active file is first renamed to a new segment name.
    func rotate(_ state: inout State, now: Timestamp, reason: FileSinkStateMachine.RotationReason, renamingActiveFile: Bool? = nil) {
        let current = state.activeFile ?? configuration.activePath
        if let descriptor = state.descriptor {
            if configuration.fsync != .never { try? fileSystem.sync(descriptor, path: current) }
            fileSystem.close(descriptor)
            state.descriptor = nil
        }
        let size = (try? fileSystem.info(current))??.size ?? state.machine.activeSize
        let segmentPath: String
        if renamingActiveFile ?? (configuration.layout == .rename) {
            segmentPath = configuration.directory + "/" + newSegment(&state, now: now).name
            do throws(FileSystemError) {
                try fileSystem.rename(current, to: segmentPath)
            } catch {
                fail(&state, now: now, error: error.description, errno: error.code)
                return
            }
            if configuration.fsync != .never { try? fileSystem.syncDirectory(configuration.directory) }
        } else {
            segmentPath = current
        }
        state.activeFile = nil
        state.rotations += 1
        state.context?.report(FileRotated(segment: Self.fileName(segmentPath), reason: reason.rawValue, bytes: size,
                                          lines: state.machine.activeLines))
        execute(state.machine.rotated(into: segmentPath, at: now), &state, now: now, firstSeq: 0)
    }

    /// A segment name never used in the directory: free (plain and compressed), and after every
    /// segment this sink created or found at start-up, so that names are never reused (a tailer
    /// remembers offsets by name) and sort in creation order even if the clock steps back.
    func newSegment(_ state: inout State, now: Timestamp) -> SegmentName {
        var time = now.compactDescription
        var counter = 1
        if let newest = state.newestSegment, newest.time >= time {
            time = newest.time
            counter = newest.counter + 1
        }
        while true {
            let candidate = SegmentName(baseName: configuration.baseName, layout: configuration.layout, compactTime: time, counter: counter,
                                        compressed: configuration.format == .gzipStream)
            let path = configuration.directory + "/" + candidate.name
            let taken = ((try? fileSystem.info(path)) ?? nil) != nil || ((try? fileSystem.info(path + ".gz")) ?? nil) != nil
            if !taken {
                state.newestSegment = candidate
                return candidate
            }
            counter += 1
        }
    }
}
