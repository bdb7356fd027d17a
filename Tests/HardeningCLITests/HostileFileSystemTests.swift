import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File systems users have: a log directory that is a symbolic link or sits below one, a file in
/// the way, a read-only mount. Every event is written, or the command says why and exits non-zero.
@Suite(.serialized) struct HostileFileSystemTests {
    private func generate(_ directory: String, events: Int = 1000) async throws -> ChildProcess.Output {
        try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "generate", "--events", "\(events)", "--log-dir", directory])
    }

    private func written(_ directory: String) -> Int {
        LogReader().readAll(ReplayInputs([directory]).files).events.filter { $0.seq > 0 }.count
    }

    @Test func aSymlinkedLogDirectoryAndASymlinkedParentGetEveryEvent() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.path + "/real", withIntermediateDirectories: true)
        #expect(symlink(root.path + "/real", root.path + "/link") == 0)
        for directory in [root.path + "/link", root.path + "/link/new/deeper"] {
            let result = try await generate(directory)
            #expect(result.status == 0, "\(directory): \(result.stderr)")
            #expect(result.stderr.contains("written 1000, lost 0") || result.stderr.contains("lost 0"), "\(result.stderr)")
            #expect(written(directory) >= 1000, "\(directory)")
        }
        #expect(FileManager.default.fileExists(atPath: root.path + "/real/new/deeper"))
        let replay = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "replay", root.path + "/link", "--format", "json"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(String(decoding: replay.stdout, as: UTF8.self).contains("\"total\":2000"), "both runs through the link, each file once")
    }

    @Test func aFileInTheWayExitsNonZeroWithThePathAndTheReason() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        try root.write("file", "not a directory\n")
        for directory in [root.path + "/file", root.path + "/file/below"] {
            let result = try await generate(directory)
            #expect(result.status == 1, "\(directory)")
            #expect(result.stderr.contains("could not be written to \(directory)"), "\(result.stderr)")
            #expect(result.stderr.contains("Not a directory (errno 20)"), "\(result.stderr)")
        }
    }

    @Test func aReadOnlyMountExitsNonZeroWithTheReason() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let mountPoint = root.path + "/ro"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try await ChildProcess.runDetached(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("skipped: mounting a read-only tmpfs is not allowed here (\(mounted.stderr))")
            return
        }
        defer { _ = try? ChildProcess.run(["umount", mountPoint]) }
        let result = try await generate(mountPoint)
        #expect(result.status == 1)
        #expect(result.stderr.contains("could not be written to \(mountPoint)") && result.stderr.contains("Read-only file system (errno 30)"),
                "\(result.stderr)")
        let emitted = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "emit", "--log-dir", mountPoint], input: Data("one line\n".utf8))
        #expect(emitted.status == 1 && emitted.stderr.contains("Read-only file system (errno 30)"), "\(emitted.stderr)")
    }

    /// A disk that fills near the end of a run: the process says how many events were lost and
    /// exits 1; the run's closing record (written in the space the sink kept in reserve) makes
    /// `replay` report the same count as a lost tail.
    @Test func aDiskThatFillsNearTheEndShowsItsLostTailInReplay() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let mountPoint = root.path + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try await ChildProcess.runDetached(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("skipped: mounting a tmpfs is not allowed here (\(mounted.stderr))")
            return
        }
        defer { _ = try? ChildProcess.run(["umount", mountPoint]) }
        let result = try await generate(mountPoint + "/logs", events: 20_000)
        #expect(result.status == 1, "\(result.stderr)")
        let lostText = result.stderr.split(separator: "lost ").dropFirst().first?.prefix { $0.isNumber } ?? ""
        let lost = try #require(Int(lostText), "\(result.stderr)")
        #expect(lost > 1000, "the disk filled: \(result.stderr)")
        #expect(result.stderr.contains("No space left on device (errno 28)"), "\(result.stderr)")
        let replay = try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "replay", mountPoint + "/logs", "--format", "json"])
        let report = try JSONDocument.parse(replay.stdout)
        #expect(report["loss"]?["lost_tail_events"] == .int(Int64(lost)), "\(String(describing: report["loss"])) vs lost \(lost)")
        let text = String(decoding: try await ChildProcess.runDetached([ChildProcess.hardeningExecutable, "replay", mountPoint + "/logs"]).stdout, as: UTF8.self)
        #expect(text.contains("lost at the end of a run (file.closed)"), "\(text.prefix(800))")
    }
}
