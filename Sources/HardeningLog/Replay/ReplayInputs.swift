#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// Turns what the command line names into the files to read, in reading order: `-` (standard
/// input), files, directories (recursively; within a directory, rotated segments oldest first,
/// then the active file) and globs (`logs/*.gz`, expanded here too, so quoting them works).
public struct ReplayInputs: Sendable {
    /// The files, in order; `-` for standard input.
    public var files: [String] = []
    /// Names that matched nothing or could not be read.
    public var issues: [ReadIssue] = []
    /// Whether a file (or standard input) was named itself, not found in a named directory:
    /// then a run's newest file may be one not named (``Replay/InputAccount/runsWithoutClosingRecord``).
    package var namesFiles = false

    /// Expands `arguments` through `fileSystem`.
    public init(_ arguments: [String], fileSystem: any FileSystem = PosixFileSystem()) {
        var collected = Collected()
        for argument in arguments {
            if argument == "-" {
                collected.add("-")
                collected.namesFiles = true
            } else if argument.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }), (try? fileSystem.info(argument)) ?? nil == nil {
                let matches = Self.expandPattern(argument)
                if matches.isEmpty {
                    collected.issues.append(ReadIssue(file: argument, kind: .unreadable, message: "no file matches this pattern"))
                }
                for match in matches { Self.expand(match, fileSystem: fileSystem, into: &collected) }
            } else {
                Self.expand(argument, fileSystem: fileSystem, into: &collected)
            }
        }
        files = collected.files
        issues = collected.issues
        namesFiles = collected.namesFiles
    }

    private struct Collected {
        var files: [String] = []
        var seen: Set<String> = []
        var issues: [ReadIssue] = []
        var namesFiles = false

        /// Adds a file once, however it is named: the segments layout's `events.jsonl` is a link
        /// to a segment that a glob or a directory also names.
        mutating func add(_ path: String) {
            if seen.insert(Self.identity(path)).inserted { files.append(path) }
        }

        private static func identity(_ path: String) -> String { LogReader.identity(path) }
    }

    private static func expand(_ path: String, fileSystem: any FileSystem, into collected: inout Collected) {
        let info: FileInfo?
        do throws(FileSystemError) {
            info = try fileSystem.info(path)
        } catch {
            collected.issues.append(ReadIssue(file: path, kind: .unreadable, message: error.description))
            return
        }
        guard let info else {
            collected.issues.append(ReadIssue(file: path, kind: .unreadable, message: "no such file or directory"))
            return
        }
        // A directory named on the command line may be a symbolic link to one.
        var status = stat()
        let isDirectory = info.isDirectory || (info.isSymbolicLink && stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR)
        guard isDirectory else {
            collected.namesFiles = true
            return collected.add(path)
        }
        for file in LogReader(fileSystem: fileSystem).logFiles(in: path) { collected.add(file) }
        let names = ((try? fileSystem.contentsOfDirectory(path)) ?? []).sorted()
        for name in names where !name.hasPrefix(".") {
            let child = path.hasSuffix("/") ? path + name : path + "/" + name
            if let childInfo = (try? fileSystem.info(child)) ?? nil, childInfo.isDirectory, !childInfo.isSymbolicLink {
                expand(child, fileSystem: fileSystem, into: &collected)
            }
        }
    }

    static func expandPattern(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { index in result.gl_pathv[index].map { String(cString: $0) } }
    }
}
