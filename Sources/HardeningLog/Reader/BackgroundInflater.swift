import DequeModule
import Hardening

/// Reads and inflates a gzip file on its own thread, handing inflated chunks to the reader in
/// order through a small bounded queue: inflating and scanning lines then run on two cores.
///
/// Damage and the end of the input travel through the same queue, so the reader sees them
/// exactly where they were in the stream. Memory is bounded by ``depth`` chunks of
/// ``chunkBytes``.
final class BackgroundInflater: Sendable {
    enum Item: Sendable {
        /// Inflated bytes, in order.
        case bytes([UInt8])
        /// Corrupt data at this point of the stream.
        case damaged(GzipDecompressor.Damage)
        /// Reading failed at `offset`; nothing follows.
        case readFailed(message: String, offset: Int64)
        /// The input ended inside a member.
        case truncated(GzipDecompressor.Damage)
    }

    private struct State {
        var items: Deque<Item> = []
        var bytesQueued = 0
        var finished = false
    }

    static let chunkBytes = 128 << 10
    static let depth = 4
    /// How much compressed input is read at a time.
    static let readBytes = 128 << 10

    private let state = ConditionLock(State())
    private let thread: Locked<OSThread?> = Locked(nil)

    /// Starts inflating `firstChunk` and then the rest of `descriptor`.
    init(descriptor: Int32, path: String, fileSystem: any FileSystem, firstChunk: [UInt8]) {
        let worker = OSThread(name: "hardening-inflate") { [state] in
            Self.produce(descriptor: descriptor, path: path, fileSystem: fileSystem, firstChunk: firstChunk, state: state)
        }
        thread.withLock { $0 = worker }
    }

    /// The next item, waiting for it; `nil` once everything was handed over.
    func next() -> Item? {
        let item = state.withLockAndWaiter { state, waiter -> Item? in
            while state.pointee.items.isEmpty && !state.pointee.finished { waiter.wait(.first) }
            guard let item = state.pointee.items.popFirst() else { return nil }
            if case .bytes = item { state.pointee.bytesQueued -= 1 }
            return item
        }
        state.signal(.second)
        return item
    }

    /// Waits for the thread to end (after ``next()`` returned `nil`).
    func join() {
        thread.withLock { $0 }?.join()
    }

    private static func produce(descriptor: Int32, path: String, fileSystem: any FileSystem, firstChunk: [UInt8],
                                state: ConditionLock<State>) {
        defer {
            state.withLock { $0.finished = true }
            state.signal(.first)
        }
        func push(_ item: Item) {
            state.withLockAndWaiter { state, waiter in
                if case .bytes = item {
                    while state.pointee.bytesQueued >= depth { waiter.wait(.second) }
                    state.pointee.bytesQueued += 1
                }
                state.pointee.items.append(item)
            }
            state.signal(.first)
        }
        // Inflated bytes travel in chunks of at most `chunkBytes` (the queue's memory bound).
        var output: [UInt8] = []
        output.reserveCapacity(chunkBytes)
        func flush() {
            guard !output.isEmpty else { return }
            push(.bytes(output))
            output = []
            output.reserveCapacity(chunkBytes)
        }
        inflate(descriptor: descriptor, path: path, fileSystem: fileSystem, firstChunk: firstChunk, bytes: { bytes in
            let typed = bytes.assumingMemoryBound(to: UInt8.self)
            var offset = 0
            while offset < typed.count {
                let take = min(typed.count - offset, chunkBytes - output.count)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: typed[offset..<(offset + take)]))
                offset += take
                if output.count == chunkBytes { flush() }
            }
        }, push: { item in
            flush()
            push(item)
        })
        flush()
    }

    /// Inflates `firstChunk` and then the rest of `descriptor` on the calling thread: the
    /// inflated bytes go to `bytes` in order (valid during the call), damage and the end to
    /// `push` where they are in the stream (the background thread's work; replay of many files
    /// and of ranges calls it inline, since its workers already use every core).
    static func inflate(descriptor: Int32, path: String, fileSystem: any FileSystem, firstChunk: [UInt8],
                        limit: Int64? = nil, bytes: (UnsafeRawBufferPointer) -> Void, push: (Item) -> Void) {
        guard let decompressor = try? GzipDecompressor() else { return }
        func damaged(_ damage: GzipDecompressor.Damage) { push(.damaged(damage)) }
        firstChunk.withUnsafeBytes { decompressor.feed($0, output: bytes, damaged: damaged) }
        var offset = Int64(firstChunk.count)
        var chunk = [UInt8](repeating: 0, count: readBytes)
        var failure: Item?
        while true {
            let count: Int
            do throws(FileSystemError) {
                count = try fileSystem.read(descriptor, into: &chunk, limit: limit.map { $0 - offset }, path: path)
            } catch {
                failure = .readFailed(message: error.description, offset: offset)
                break
            }
            if count == 0 { break }
            chunk.withUnsafeBytes { decompressor.feed(UnsafeRawBufferPointer(rebasing: $0[0..<count]), output: bytes, damaged: damaged) }
            offset += Int64(count)
        }
        // What was read before a failure is still inflated and handed over first.
        let tail = decompressor.finish(output: bytes, damaged: damaged)
        if let failure { push(failure) }
        if let tail { push(.truncated(tail)) }
    }
}
