// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 child channel with ``ConnectionGuardHandler`` in front of the HTTP
/// decoder (connection limit, header and request timeouts) and ``ResponseCompletionHandler``
/// behind it; everything else is Hummingbird's own.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limiter: ConnectionLimiter
    let headerTimeout: TimeAmount
    let requestTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionGuardHandler(limiter: limiter, headerTimeout: headerTimeout, requestTimeout: requestTimeout))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the agent's connection guard: idle, header and request timeouts and a
    /// connection limit.
    package static func guardedHTTP1(idleTimeout: Duration, headerTimeout: Duration, requestTimeout: Duration,
                             limiter: ConnectionLimiter) -> HTTPServerBuilder {
        .init { responder in
            let configuration = HTTP1Channel.Configuration(additionalChannelHandlers: [ResponseCompletionHandler()],
                                                           idleTimeout: .nanoseconds(idleTimeout.nanoseconds))
            return GuardedHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: configuration), limiter: limiter,
                                       headerTimeout: .nanoseconds(headerTimeout.nanoseconds),
                                       requestTimeout: .nanoseconds(requestTimeout.nanoseconds))
        }
    }
}
#endif
