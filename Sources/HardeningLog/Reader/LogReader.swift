#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Hardening

/// Streams events out of JSON-lines files, plain or gzip (detected by magic bytes, not by name;
/// any number of members), with bounded memory.
///
/// It never stops at bad input: a garbage line, an over-long line, a torn last line, a truncated
/// or corrupt gzip stream are each reported as a ``ReadIssue`` with file and line, and reading
/// goes on with the next intact line. A torn line is never returned as an event.
public struct LogReader: Sendable {
    /// The longest line accepted; longer lines are skipped (and reported) without being buffered.
    public var maxLineBytes: Int
    /// The line decoder.
    public var decoder: JSONLineDecoder
    /// The file system to read through.
    public var fileSystem: any FileSystem
    /// Whether gzip is inflated on a thread of its own while lines are read (one file at a time
    /// uses two cores); replay reading several files at once turns it off.
    package var inflatesInBackground = true

    /// Creates a reader.
    public init(maxLineBytes: Int = 16 << 20, decoder: JSONLineDecoder = JSONLineDecoder(),
                fileSystem: any FileSystem = PosixFileSystem()) {
        self.maxLineBytes = maxLineBytes
        self.decoder = decoder
        self.fileSystem = fileSystem
    }

    /// How much is read from a file at a time.
    static let readBytes = 128 << 10

    /// Everything read from some files: the events in order and the issues found.
    package struct Result: Sendable {
        /// The events, file by file, line by line.
        package var events: [Event] = []
        /// The problems found.
        package var issues: [ReadIssue] = []
    }

    /// Reads whole files into memory (for tests and small inputs; replay streams instead).
    package func readAll(_ paths: [String]) -> Result {
        var result = Result()
        for path in paths {
            read(path, onEvent: { result.events.append($0) }, onIssue: { result.issues.append($0) })
        }
        return result
    }

    /// Streams the events of one file (`-` is standard input).
    public func read(_ path: String, onEvent: (Event) -> Void, onIssue: (ReadIssue) -> Void) {
        read(path, onLine: { _ in false }, onEvent: onEvent, onIssue: onIssue)
    }

    /// Streams one file; each whole line is first offered to `onLine` (without its newline),
    /// and decoded into an event only if `onLine` returns `false` (replay's byte scanner).
    func read(_ path: String, onLine: (UnsafeBufferPointer<UInt8>) -> Bool, onEvent: (Event) -> Void,
              onIssue: (ReadIssue) -> Void) {
        read(path, range: nil, onLine: onLine, onEvent: onEvent, onIssue: onIssue)
    }

    /// Streams the bytes of `range` of one file (the whole file when `nil`), as
    /// ``read(_:onLine:onEvent:onIssue:)`` does; line numbers count from the range's start.
    /// Replay reads a large file as a few ranges at once, each cut where a gzip member begins.
    /// Returns the number of lines read.
    @discardableResult
    func read(_ path: String, range: Range<Int64>?, onLine: (UnsafeBufferPointer<UInt8>) -> Bool, onEvent: (Event) -> Void,
              onIssue: (ReadIssue) -> Void) -> Int {
        let descriptor: Int32
        if path == "-" {
            descriptor = 0
        } else {
            do throws(FileSystemError) {
                descriptor = try fileSystem.open(path, flags: O_RDONLY, mode: 0)
            } catch {
                onIssue(ReadIssue(file: path, kind: .unreadable, message: error.description))
                return 0
            }
        }
        defer { if path != "-" { fileSystem.close(descriptor) } }
        if let range {
            do throws(FileSystemError) {
                try fileSystem.seek(descriptor, to: range.lowerBound, path: path)
            } catch {
                onIssue(ReadIssue(file: path, offset: range.lowerBound, kind: .unreadable, message: error.description))
                return 0
            }
        }
        var splitter = LineSplitter(file: path, maxLineBytes: maxLineBytes, decoder: decoder)
        var chunk = [UInt8](repeating: 0, count: Self.readBytes)
        var first = true
        var offset: Int64 = 0
        /// Inflates `firstChunk` and the rest of the file (on another core unless inline).
        func inflateRest(firstChunk: [UInt8]) {
            func take(_ bytes: UnsafeRawBufferPointer) {
                splitter.feed(bytes, onLine: onLine, onEvent: onEvent, onIssue: onIssue)
            }
            func take(_ item: BackgroundInflater.Item) {
                switch item {
                case .bytes(let bytes):
                    bytes.withUnsafeBytes { take($0) }
                case .damaged(let damage):
                    splitter.discardPartialLine()
                    onIssue(ReadIssue(file: path, line: splitter.lineNumber + 1, offset: damage.offset, kind: .corruptGzip,
                                      message: damage.reason))
                case .readFailed(let message, let offset):
                    onIssue(ReadIssue(file: path, offset: offset, kind: .unreadable, message: message))
                case .truncated(let tail):
                    onIssue(ReadIssue(file: path, line: splitter.lineNumber + 1, offset: tail.offset, kind: .truncatedGzip,
                                      message: tail.reason))
                }
            }
            if inflatesInBackground {
                // gzip: the rest of the file is read and inflated on another core.
                let inflater = BackgroundInflater(descriptor: descriptor, path: path, fileSystem: fileSystem, firstChunk: firstChunk)
                while let item = inflater.next() { take(item) }
                inflater.join()
            } else {
                BackgroundInflater.inflate(descriptor: descriptor, path: path, fileSystem: fileSystem, firstChunk: firstChunk,
                                           limit: range.map { $0.upperBound - $0.lowerBound }, bytes: take, push: take)
            }
        }
        while true {
            let count: Int
            do throws(FileSystemError) {
                count = try fileSystem.read(descriptor, into: &chunk, limit: range.map { $0.upperBound - $0.lowerBound - offset }, path: path)
            } catch {
                onIssue(ReadIssue(file: path, offset: offset, kind: .unreadable, message: error.description))
                break
            }
            if count == 0 { break }
            if first {
                first = false
                if LogReader.looksCompressed(chunk[0..<count]) {
                    inflateRest(firstChunk: Array(chunk[0..<count]))
                    break
                }
            }
            // gzip after something else (garbage written before a member, a copy that prepended
            // text): the plain part is read as lines, the rest inflated, so that what follows the
            // garbage is never hidden by it. Our lines never hold the bytes 1f 8b: a control
            // character is escaped, and 8b is no UTF-8 lead byte.
            if range == nil, let magic = LogReader.gzipMagic(in: chunk[0..<count]) {
                chunk.withUnsafeBytes { raw in
                    splitter.feed(UnsafeRawBufferPointer(rebasing: raw[0..<magic]), onLine: onLine, onEvent: onEvent, onIssue: onIssue)
                }
                // What came before the member ends there, whole line or not.
                if magic == 0 || chunk[magic - 1] != 0x0A {
                    [UInt8(0x0A)].withUnsafeBytes { splitter.feed($0, onLine: onLine, onEvent: onEvent, onIssue: onIssue) }
                }
                inflateRest(firstChunk: Array(chunk[magic..<count]))
                break
            }
            chunk.withUnsafeBytes { raw in splitter.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count]), onLine: onLine, onEvent: onEvent, onIssue: onIssue) }
            offset += Int64(count)
        }
        splitter.finish(onIssue: onIssue)
        return splitter.lineNumber
    }

    /// Where a gzip member's header (`1f 8b 08`) starts in `bytes`, if anywhere.
    static func gzipMagic(in bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress, raw.count >= 3 else { return nil }
            var start = 0
            while start + 3 <= raw.count, let found = memchr(base + start, 0x1F, raw.count - start) {
                let index = base.distance(to: UnsafeRawPointer(found))
                if index + 3 <= raw.count, raw[index + 1] == 0x8B, raw[index + 2] == 0x08 { return bytes.startIndex + index }
                start = index + 1
            }
            return nil
        }
    }

    /// The log files of a directory in reading order: other names first (by name), then segments
    /// of either layout oldest first, then the fixed active file of each base name (the `rename`
    /// layout's). Hidden files (a name starting with `.`) and `.tmp` files are not logs. A symbolic
    /// link to a regular file is read unless it names a file already listed (the `segments`
    /// layout's `events.jsonl` points at the active segment): each file once.
    public func logFiles(in directory: String) -> [String] {
        guard let names = try? fileSystem.contentsOfDirectory(directory) else { return [] }
        var segments: [SegmentName] = []
        var active: [String] = []
        var others: [String] = []
        var links: [String] = []
        for name in names where !name.hasSuffix(".tmp") && !name.hasPrefix(".") {
            guard let info = (try? fileSystem.info(directory + "/" + name)) ?? nil else { continue }
            if info.isSymbolicLink {
                links.append(name)
                continue
            }
            guard info.isRegularFile else { continue }
            if let segment = SegmentName(name) {
                segments.append(segment)
            } else if name.hasSuffix(".jsonl") || name.hasSuffix(".jsonl.gz") {
                active.append(name)
            } else {
                others.append(name)
            }
        }
        // A stop between compression's rename of the complete `.gz` and the removal of the plain
        // segment leaves both: the segment is read once, from the `.gz` (start-up removes the plain one).
        let compressed = Set(segments.filter(\.isCompressed).map(\.name))
        segments.removeAll { !$0.isCompressed && compressed.contains($0.name + ".gz") }
        let files = (others.sorted() + segments.sorted().map(\.name) + active.sorted()).map { directory + "/" + $0 }
        guard !links.isEmpty else { return files }
        var seen = Set(files.map(Self.identity))
        var linked: [String] = []
        for name in links.sorted() {
            let path = directory + "/" + name
            var status = stat()
            guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, seen.insert(Self.identity(path)).inserted else { continue }
            linked.append(path)
        }
        return linked + files
    }

    /// A file's identity however it is named: its real path (links resolved).
    static func identity(_ path: String) -> String {
        guard path != "-", let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

extension LogReader {
    /// Whether a file that starts with `bytes` is read as gzip: it starts with the gzip magic
    /// number (or its first byte, the rest damaged or cut off), or it starts with binary bytes
    /// and a gzip member header follows (a damaged first member must not cost the others).
    static func looksCompressed(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        if first == 0x1F { return true }
        let text = first == 0x09 || first == 0x0A || first == 0x0D || (0x20..<0x7F).contains(first) || first >= 0xC2
        guard !text, bytes.count >= 3 else { return false }
        var index = bytes.startIndex
        while index + 2 < bytes.endIndex {
            if bytes[index] == 0x1F, bytes[index + 1] == 0x8B, bytes[index + 2] == 0x08 { return true }
            index += 1
        }
        return false
    }
}

/// Splits a byte stream into lines with bounded memory and decodes each.
struct LineSplitter {
    let file: String
    let maxLineBytes: Int
    let decoder: JSONLineDecoder
    var pending: [UInt8] = []
    var skipping = false
    var skippedBytes = 0
    private(set) var lineNumber = 0

    init(file: String, maxLineBytes: Int, decoder: JSONLineDecoder) {
        self.file = file
        self.maxLineBytes = maxLineBytes
        self.decoder = decoder
    }

    mutating func discardPartialLine() {
        pending.removeAll(keepingCapacity: true)
        skipping = false
    }

    /// Splits `input` into lines; each whole line goes to `onLine` first and is decoded only if
    /// `onLine` returns `false`. (Closures are parameters, not stored: no captured state is boxed.)
    mutating func feed(_ input: UnsafeRawBufferPointer, onLine: (UnsafeBufferPointer<UInt8>) -> Bool, onEvent: (Event) -> Void,
                       onIssue: (ReadIssue) -> Void) {
        guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var start = 0
        let count = input.count
        while start < count {
            let found = memchr(base + start, 0x0A, count - start)
            guard let found else {
                take(UnsafeBufferPointer(start: base + start, count: count - start))
                return
            }
            let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            lineNumber += 1
            if skipping || pending.count + (end - start) > maxLineBytes {
                let total = skippedBytes + pending.count + (end - start)
                onIssue(ReadIssue(file: file, line: lineNumber, kind: .lineTooLong,
                                  message: "line of \(total) bytes is longer than the limit of \(maxLineBytes); skipped"))
                pending.removeAll(keepingCapacity: true)
                skipping = false
                skippedBytes = 0
            } else if pending.isEmpty {
                decodeLine(UnsafeBufferPointer(start: base + start, count: end - start), onLine: onLine, onEvent: onEvent, onIssue: onIssue)
            } else {
                pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: end - start))
                let line = pending
                pending.removeAll(keepingCapacity: true)
                line.withUnsafeBufferPointer { decodeLine($0, onLine: onLine, onEvent: onEvent, onIssue: onIssue) }
            }
            start = end + 1
        }
    }

    private mutating func take(_ bytes: UnsafeBufferPointer<UInt8>) {
        if skipping {
            skippedBytes += bytes.count
        } else if pending.count + bytes.count > maxLineBytes {
            skipping = true
            skippedBytes = pending.count + bytes.count
            pending = []
        } else {
            pending.append(contentsOf: bytes)
        }
    }

    private func decodeLine(_ line: UnsafeBufferPointer<UInt8>, onLine: (UnsafeBufferPointer<UInt8>) -> Bool, onEvent: (Event) -> Void,
                            onIssue: (ReadIssue) -> Void) {
        var slice = line
        if let last = slice.last, last == 0x0D { slice = UnsafeBufferPointer(rebasing: slice.dropLast()) }
        if onLine(slice) { return }
        if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        do throws(LineDecodingError) {
            onEvent(try decoder.decode(slice))
        } catch {
            onIssue(ReadIssue(file: file, line: lineNumber, kind: .badLine, message: error.description))
        }
    }

    mutating func finish(onIssue: (ReadIssue) -> Void) {
        if skipping || !pending.isEmpty {
            let bytes = skipping ? skippedBytes : pending.count
            onIssue(ReadIssue(file: file, line: lineNumber + 1, kind: .tornLine,
                              message: "input ends with \(bytes) byte(s) of a line without a newline (torn write); not taken as an event"))
        }
        pending.removeAll()
        skipping = false
    }
}
