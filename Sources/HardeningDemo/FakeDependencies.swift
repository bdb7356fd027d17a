import Hardening
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The original service's dependencies, faked as real HTTP servers on 127.0.0.1, each with its
/// own port, following a ``DemoScript``: `/health` and one API route each (`/v1/pages/{id}`,
/// `/query`, `/v1/chat/completions`, `/items`).
public final class FakeDependencies: Sendable {
    /// The ports, once every server listens (see ``url(_:)``).
    let ports = Locked<[DemoScript.Dependency: Int]>([:])
    let script: DemoScript
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    private let requests = Atomic<Int>(0)
    private let noise = Locked(SplitMix64(seed: 7))

    /// Fakes following `script`, from now.
    public init(script: DemoScript, seed: UInt64) {
        self.script = script
        self.start = clock.now
        noise.withLock { $0 = SplitMix64(seed: seed) }
    }

    var progress: Double {
        let elapsed = start.duration(to: clock.now)
        return min(1, max(0, elapsed / script.duration))
    }

    /// One server per dependency, as services for a `ServiceGroup` (or to run and cancel).
    public func applications() -> [any Service] {
        DemoScript.Dependency.allCases.map { dependency in
            Application(
                router: router(for: dependency),
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: "fake-\(dependency.rawValue)"),
                onServerRunning: { [ports] channel in ports.withLock { $0[dependency] = channel.localAddress?.port ?? 0 } },
                logger: Logger(label: "demo.\(dependency.rawValue)", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        }
    }

    /// The base URL of `dependency` (after it listens).
    public func url(_ dependency: DemoScript.Dependency) -> String {
        "http://127.0.0.1:\(ports.withLock { $0[dependency] ?? 0 })"
    }

    private func router(for dependency: DemoScript.Dependency) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ -> Response in
            self.script.isDown(dependency, progress: self.progress)
                ? Response(status: .serviceUnavailable) : Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        let path: RouterPath = switch dependency {
        case .notes: "/v1/pages/{id}"
        case .vectors: "/query"
        case .llm: "/v1/chat/completions"
        case .references: "/items"
        }
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            for try await _ in request.body {}
            let number = self.requests.add(1, ordering: .relaxed).newValue
            let noise = self.noise.withLock { $0.nextUnit() }
            switch self.script.behaviour(of: dependency, request: number, progress: self.progress, noise: noise) {
            case .answer(let delay):
                try await Task.sleep(for: delay)
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: Self.body(for: dependency, number))))
            case .fail(let status, let retryAfter, let delay):
                try await Task.sleep(for: delay)
                var headers = HTTPFields()
                if let retryAfter { headers[.retryAfter] = String(Double(retryAfter.milliseconds.rounded()) / 1000) }
                return Response(status: HTTPResponse.Status(code: status), headers: headers)
            }
        }
        if dependency == .vectors || dependency == .llm {
            router.post(path, use: handler)
        } else {
            router.get(path, use: handler)
        }
        return router
    }

    private static func body(for dependency: DemoScript.Dependency, _ number: Int) -> String {
        switch dependency {
        case .notes: #"{"object":"page","id":"page-\#(number)","content":"Notes about retrieval-augmented generation."}"#
        case .vectors: #"{"matches":[{"id":"chunk-\#(number % 97)","score":0.82},{"id":"chunk-\#(number % 89)","score":0.77}]}"#
        case .llm: #"{"choices":[{"message":{"content":"An answer grounded in the retrieved notes."}}]}"#
        case .references: #"{"items":[{"key":"REF\#(number % 13)","title":"A paper"}]}"#
        }
    }
}
