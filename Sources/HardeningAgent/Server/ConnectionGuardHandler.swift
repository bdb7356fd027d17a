// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The first handler of every agent connection, on raw bytes before HTTP decoding: admits the
/// connection through the ``ConnectionLimiter`` and enforces two deadlines the HTTP layer cannot
/// see.
///
/// - The **header timeout** runs from the first byte of a request until its head (request line
///   and headers, up to the blank line) has arrived: a client sending a byte a second is closed.
/// - The **request timeout** runs from the end of the head until the answer's last part has been
///   written (``ResponseCompletionHandler`` says so): a body sent slowly, or an answer nobody
///   reads, cannot hold the connection.
///
/// Between requests the connection is idle; Hummingbird's idle timeout closes it if nothing
/// comes. A stream of server-sent events (`/events/stream`) has no request timeout once its head
/// is written: its reader is bounded by the stream's own queue instead (a client that does not
/// keep up is dropped there).
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limiter: ConnectionLimiter
    private let headerTimeout: TimeAmount
    private let requestTimeout: TimeAmount
    private var id: ConnectionLimiter.ID?
    /// How many bytes of `\r\n\r\n` the bytes read so far end with.
    private var headEndMatched = 0
    /// Bytes have arrived since the last request head ended: a head is being read.
    private var readingHead = false
    /// Request heads read, and answers written in full: requests in between are in progress
    /// (several, when a client pipelines).
    private var headsRead = 0
    private var answersWritten = 0
    /// The head being read, up to ``headBytesKept``: enough to see its HTTP version and
    /// `Connection` header.
    private var head: [UInt8] = []
    /// Whether the connection closes once an answer is written: an HTTP/1.0 request without
    /// `Connection: keep-alive` (HTTP/1.1's `Connection: close` is Hummingbird's own business).
    private var closeAfterResponse = false
    private var deadline: Scheduled<Void>?
    /// An event stream's answer is being written: no request timeout until it ends.
    private var streaming = false
    private static let headBytesKept = 8192
    private static let headEnd: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    init(limiter: ConnectionLimiter, headerTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.limiter = limiter
        self.headerTimeout = headerTimeout
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if id == nil { admit(context) }
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard id == nil else { return }
        id = limiter.admit(context.channel)
        if id == nil { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let id { limiter.remove(id) }
        id = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let wasIdle = isIdle
        bytes.withUnsafeReadableBytes { raw in
            for byte in raw {
                readingHead = true
                if head.count < Self.headBytesKept { head.append(byte) }
                if byte == Self.headEnd[headEndMatched] {
                    headEndMatched += 1
                } else {
                    headEndMatched = byte == Self.headEnd[0] ? 1 : 0
                }
                guard headEndMatched == Self.headEnd.count else { continue }
                // A whole head: its request is in progress until its answer is written.
                headEndMatched = 0
                readingHead = false
                headsRead += 1
                if Self.isHTTP10WithoutKeepAlive(head) { closeAfterResponse = true }
                head.removeAll(keepingCapacity: true)
            }
        }
        if wasIdle, !isIdle, let id { limiter.setBusy(id, true) }
        if wasIdle || headsRead > answersWritten { rescheduleDeadline(context, restart: false) }
        context.fireChannelRead(data)
    }

    /// Nothing read and nothing to answer.
    private var isIdle: Bool { !readingHead && headsRead == answersWritten }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is ResponseCompletionHandler.StreamStarted {
            promise?.succeed()
            streaming = true
            deadline?.cancel()
            deadline = nil
            return
        }
        guard event is ResponseCompletionHandler.ResponseCompleted else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed()
        streaming = false
        if closeAfterResponse {
            context.close(promise: nil)
            return
        }
        answersWritten = min(answersWritten + 1, headsRead)
        if isIdle, let id { limiter.setBusy(id, false) }
        rescheduleDeadline(context, restart: true)
    }

    /// The deadline for where the connection is now: a request being answered has the request
    /// timeout (each pipelined request a fresh one), a head being read the header timeout, an
    /// idle connection none (Hummingbird's idle timeout). `restart` starts it afresh even if
    /// the phase did not change.
    private var deadlineIsForRequest: Bool?

    private func rescheduleDeadline(_ context: ChannelHandlerContext, restart: Bool) {
        guard !streaming else { return }
        let forRequest: Bool? = headsRead > answersWritten ? true : (readingHead ? false : nil)
        guard restart || forRequest != deadlineIsForRequest else { return }
        deadline?.cancel()
        deadline = nil
        deadlineIsForRequest = forRequest
        guard let forRequest else { return }
        schedule(context, after: forRequest ? requestTimeout : headerTimeout, header: !forRequest)
    }

    /// Whether `head` is an HTTP/1.0 request that did not ask to be kept alive.
    static func isHTTP10WithoutKeepAlive(_ head: [UInt8]) -> Bool {
        let text = String(decoding: head, as: UTF8.self).lowercased()
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let requestLine = lines.first, requestLine.hasSuffix(" http/1.0") else { return false }
        let keepAlive = lines.dropFirst().contains { line in
            line.hasPrefix("connection:") && line.contains("keep-alive")
        }
        return !keepAlive
    }

    private func schedule(_ context: ChannelHandlerContext, after delay: TimeAmount, header: Bool) {
        let limiter = self.limiter
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            limiter.countTimeout(header: header)
            context.close(promise: nil)
        }
    }
}

/// After HTTP encoding's counterpart (on HTTP parts): tells ``ConnectionGuardHandler`` when the
/// last part of an answer has been written, so that its request timeout stops.
final class ResponseCompletionHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The user event sent toward the head of the pipeline.
    struct ResponseCompleted: Sendable {}
    /// Sent when the head of a `text/event-stream` answer is written.
    struct StreamStarted: Sendable {}

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(let head) = part, head.headerFields[.contentType]?.hasPrefix("text/event-stream") == true {
            context.triggerUserOutboundEvent(StreamStarted(), promise: nil)
        }
        guard case .end = part else {
            context.write(data, promise: promise)
            return
        }
        // Complete once the answer's last bytes are on the socket (or failed): a reader that
        // never reads is still in its request until then.
        let written = context.eventLoop.makePromise(of: Void.self)
        if let promise { written.futureResult.cascade(to: promise) }
        context.write(data, promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in
            context.triggerUserOutboundEvent(ResponseCompleted(), promise: nil)
        }
    }
}
#endif
