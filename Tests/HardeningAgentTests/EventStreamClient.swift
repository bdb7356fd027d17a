import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking reader of `/events/stream` over a raw socket, as a curl or a browser would be:
/// counts the events (`data:` lines) it reads, and sees the server close the connection.
final class EventStreamClient: @unchecked Sendable {
    let descriptor: Int32
    private let lock = NSLock()
    private var _frames = 0
    private var _bytes = 0
    private var _head = ""
    private var _closedByServer = false
    private var _finished = false

    /// Connects to 127.0.0.1:`port` and asks for `path`; `receiveBuffer` shrinks the socket's
    /// receive buffer (a client that never reads then fills the server's side sooner).
    init?(port: Int, path: String, receiveBuffer: Int32? = nil) {
        guard let descriptor = LoopbackSocket.connect(port, receiveBuffer: receiveBuffer) else { return nil }
        self.descriptor = descriptor
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
        // A failed send returns nil; deinit closes the descriptor (once).
        guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
    }

    deinit { close(descriptor) }

    var frames: Int { lock.withLock { _frames } }
    var bytes: Int { lock.withLock { _bytes } }
    /// The answer's head (status line and headers).
    var head: String { lock.withLock { _head } }
    var closedByServer: Bool { lock.withLock { _closedByServer } }
    /// Whether ``startReading(quietFor:)``'s thread is done.
    var finished: Bool { lock.withLock { _finished } }

    /// Reads on a thread of its own, started now (not when a busy task pool gets to it).
    func startReading(quietFor seconds: Int32) {
        Thread.detachNewThread { [self] in
            readUntilClosed(quietFor: seconds)
            lock.withLock { _finished = true }
        }
    }

    /// Reads until the server closes the connection or `seconds` pass without a byte.
    func readUntilClosed(quietFor seconds: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let marker = Array("\ndata: ".utf8)
        var carry: [UInt8] = []
        var headBytes: [UInt8] = []
        var inHead = true
        while true {
            var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&poll, 1, seconds * 1000) == 1 else { return }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                lock.withLock { _closedByServer = true }
                return
            }
            var chunk = buffer[0..<count]
            if inHead {
                headBytes += chunk
                guard let end = Self.find([13, 10, 13, 10], in: headBytes[...]) else { continue }
                inHead = false
                let text = String(decoding: headBytes[..<(end + 4)], as: UTF8.self)
                lock.withLock { _head = text }
                carry = [10]
                chunk = headBytes[(end + 4)...]
            }
            // Count the markers in what was carried over and the new bytes (memchr: C speed, so
            // that fifty readers do not need the cores the server needs).
            let data = carry + chunk
            var found = 0
            data.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count, let newline = memchr(base + offset, 10, raw.count - offset) {
                    let at = newline - UnsafeMutableRawPointer(mutating: base)
                    guard at + marker.count <= raw.count else { break }
                    if memcmp(newline, marker, marker.count) == 0 { found += 1 }
                    offset = at + 1
                }
            }
            carry = Array(data.suffix(marker.count - 1))
            lock.withLock {
                _frames += found
                _bytes += count
            }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in haystack.startIndex...(haystack.endIndex - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

/// TCP connections to 127.0.0.1 made by hand: what a raw client (idle, slow, never reading) is.
enum LoopbackSocket {
    /// A connection to 127.0.0.1:`port`, or `nil`; `receiveBuffer` shrinks its receive buffer
    /// (set before connecting, so that the window it offers is small from the start).
    static func connect(_ port: Int, receiveBuffer: Int32? = nil) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }
}
