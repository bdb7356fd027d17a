#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

// Start-up: what a crash or an earlier run left in the directory.
extension RotatingFileSink {
    func recoverAtStartup(_ state: inout State, now: Timestamp) {
        let directory = configuration.directory
        do throws(FileSystemError) {
            try fileSystem.makeDirectory(directory, mode: configuration.directoryMode)
        } catch {
            fail(&state, now: now, error: error.description, errno: error.code)
            return
        }
        // One writer a directory: a second is refused before it touches a file (its recovery and
        // retention would rename and delete the first's segments).
        switch DirectoryLock.acquire(lockPath, mode: configuration.fileMode, fileSystem: fileSystem) {
        case .acquired(let descriptor):
            state.lockDescriptor = descriptor
        case .heldBy(let holder):
            state.refusal = DirectoryLock.refusal(directory: directory, holder: holder)
            if let payload = state.failure.failed(at: now, sink: name, error: state.refusal!, errno: EWOULDBLOCK, events: 0) {
                state.context?.report(payload)
            }
            return
        case .unavailable:
            break
        }
        var names = (try? fileSystem.contentsOfDirectory(directory)) ?? []
        for name in names where name.hasPrefix(configuration.baseName) && name.hasSuffix(".tmp") {
            try? fileSystem.remove(directory + "/" + name)
        }
        state.newestSegment = names.compactMap { SegmentName($0, baseName: configuration.baseName) }
            .filter { $0.layout == configuration.layout }.max()
        if let active = (try? fileSystem.info(configuration.activePath)) ?? nil {
            if active.isSymbolicLink {
                // The segments layout's own link is replaced when the first file opens; in the
                // rename layout a link at the active name is refused, never followed.
                if configuration.layout == .rename {
                    state.refusal = FileSystemError(code: ELOOP, operation: "open (refusing to follow a symlink)",
                                                    path: configuration.activePath).description
                    if let payload = state.failure.failed(at: now, sink: name, error: state.refusal!, errno: ELOOP, events: 0) {
                        state.context?.report(payload)
                    }
                }
            } else if active.isRegularFile, active.size > 0 {
                // The active file of a crashed run (or of the rename layout before an upgrade).
                rotate(&state, now: now, reason: .startup, renamingActiveFile: true)
                names = (try? fileSystem.contentsOfDirectory(directory)) ?? names
            } else if active.isRegularFile {
                try? fileSystem.remove(configuration.activePath)
            }
        }
        for name in names {
            guard let segment = SegmentName(name, baseName: configuration.baseName) else { continue }
            let path = directory + "/" + name
            guard let info = (try? fileSystem.info(path)) ?? nil, info.isRegularFile else { continue }
            if info.size == 0 {
                // Created by a run that died before its header was written: nothing to keep.
                try? fileSystem.remove(path)
                continue
            }
            if !segment.isCompressed { state.machine.found(closedSegment: path, modified: info.modified) }
        }
        execute(state.machine.dueCompressions(now: now) + [.applyRetention], &state, now: now, firstSeq: 0)
        makeReserve()
    }
}
