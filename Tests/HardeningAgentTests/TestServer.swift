import HardeningTestSupport
import Hummingbird
import Logging
import NIOCore

/// A real HTTP server on 127.0.0.1 (a free port) for the length of `body`; stopped by cancelling
/// its task whatever the outcome. Its handlers run on a thread of their own, so that it answers
/// on time while the parallel tests' CPU-bound work holds the concurrency pool.
enum TestServer {
    static func with<T: Sendable>(_ router: Router<BasicRequestContext>, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "test-server", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let executor = ThreadTaskExecutor(name: "test-server")
        defer { executor.shutdown() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask(executorPreference: executor) {
                try await application.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            do {
                let result = try await body(port)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}
