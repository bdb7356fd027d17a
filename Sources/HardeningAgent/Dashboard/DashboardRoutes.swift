// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HTTPTypes
import Hummingbird
import NIOCore

extension RouterMethods {
    /// Mounts `dashboard`'s `/dashboard` (the live page), `/dashboard/view` (its sections) and
    /// `/events/stream` (server-sent events; `?kinds=` filters them) for `GET` and `HEAD`; other
    /// methods are answered 405 with `Allow`, as the health endpoints are.
    @discardableResult
    public func addHardeningDashboard(_ dashboard: LiveDashboard, title: String = "swift-hardening") -> Self {
        let html = HTTPFields([HTTPField(name: .contentType, value: "text/html; charset=utf-8"), HTTPField(name: .cacheControl, value: "no-store")])
        get("/dashboard") { _, _ in
            Response(status: .ok, headers: html, body: ResponseBody(byteBuffer: ByteBuffer(string: dashboard.page(title: title))))
        }
        head("/dashboard") { _, _ in Response(status: .ok, headers: html) }
        get("/dashboard/view") { _, _ in
            Response(status: .ok, headers: html, body: ResponseBody(byteBuffer: ByteBuffer(string: dashboard.view())))
        }
        head("/dashboard/view") { _, _ in Response(status: .ok, headers: html) }
        get("/events/stream") { request, _ in EventStreamResponse.response(request: request, hub: dashboard.stream) }
        head("/events/stream") { _, _ in Response(status: .ok, headers: EventStreamResponse.headers) }
        for path in ["/dashboard", "/dashboard/view", "/events/stream"] {
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                on(RouterPath(path), method: method) { _, _ in Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"]) }
            }
        }
        return self
    }
}

/// The answer to `GET /events/stream`: 400 for a bad `kinds`, 503 when the hub is full or
/// closed, otherwise `text/event-stream` written from the client's queue until the client
/// leaves, is dropped (its connection is closed at once: its writes may be stuck behind a full
/// socket), or the hub closes (what was queued is written first, for at most a second).
enum EventStreamResponse {
    static let headers = HTTPFields([
        HTTPField(name: .contentType, value: "text/event-stream; charset=utf-8"), HTTPField(name: .cacheControl, value: "no-store"),
        HTTPField(name: HTTPField.Name("X-Accel-Buffering")!, value: "no"),
    ])

    /// The writer moves to the task that writes; the request's task only waits for it.
    private struct WriterBox: @unchecked Sendable {
        var writer: any ResponseBodyWriter
    }

    /// Why the response ended early.
    struct Dropped: Error {}

    static func response(request: Request, hub: EventStreamHub) -> Response {
        let filter: EventKindFilter
        do {
            filter = try EventKindFilter(parsing: request.uri.queryParameters["kinds"].map(String.init) ?? "")
        } catch {
            return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: error.description + "\n")))
        }
        guard let client = hub.connect(filter: filter) else {
            return Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8", .retryAfter: "5"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "event stream: \(hub.configuration.maxClients) clients are connected already, or the server is stopping\n")))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let box = WriterBox(writer: writer)
            var ending = EventStreamHub.Ending.left
            defer { hub.disconnect(client, ending) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var writer = box.writer
                    for await frame in client.frames {
                        try await writer.write(frame)
                        client.wrote(frame.readableBytes)
                    }
                }
                group.addTask {
                    var reasons = client.ending.makeAsyncIterator()
                    let reason = await reasons.next() ?? .left
                    if reason == .dropped { throw Dropped() }
                    // Closed: the writer has a second to write what was queued.
                    try await Task.sleep(for: .seconds(1))
                    throw Dropped()
                }
                do {
                    try await group.next()
                } catch {
                    ending = error is Dropped ? .dropped : .left
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
            // The stream ended cleanly (the hub closed): the chunked body's last chunk.
            try await writer.finish(nil)
        })
    }
}
#endif
