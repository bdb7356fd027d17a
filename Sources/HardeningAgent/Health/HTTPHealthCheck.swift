// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import AsyncHTTPClient
import Hardening
import HardeningLog
import NIOCore
import NIOHTTP1

/// Probes an HTTP endpoint: healthy when it answers with an expected status within the time
/// limit (degraded when slower than `slowThreshold`), unhealthy otherwise, saying why (refused,
/// timeout, wrong status, unreadable body).
///
/// Header values usually come from secrets (an API key): they are sent, never reported. The URL
/// appears in results only without user info and query string, and every value in ``secrets``
/// (the `${VAR}`s the URL and headers were made from) is replaced wherever it appears in a result
/// (a URL path or host, an error text, raw or escaped). With ``observe`` set, the
/// response body is read as JSON and the value at a dotted path becomes an observed value (a
/// vector count, a queue depth).
public struct HTTPHealthCheck: HealthCheck {
    /// A JSON field of the response body to report as an observed value.
    public struct ObservedField: Sendable, Hashable {
        /// Dotted path into the body, `namespaces.default.vectorCount`; an array index is a number.
        public var path: String
        /// The observed value's name in results and events.
        public var name: String

        /// Reads `path` and reports it as `name` (default: the path's last part).
        public init(path: String, name: String? = nil) {
            self.path = path
            self.name = name ?? String(path.split(separator: ".").last ?? Substring(path))
        }
    }

    public var name: String
    public var isCritical: Bool
    /// The URL probed.
    public var url: String
    /// The request method.
    public var method: String
    /// Request headers (values may be secrets; they never appear in a result).
    public var headers: [(name: String, value: String)]
    /// Statuses that count as up.
    public var expectedStatuses: Set<Int>
    /// A body field to report, if any.
    public var observe: ObservedField?
    /// How long the whole request may take.
    public var timeout: Duration
    /// Slower than this is degraded; `nil`: never.
    public var slowThreshold: Duration?
    /// The most body read (a larger body is a failure when a field is observed, else ignored).
    public var maxBodyBytes: Int
    /// Secret values that must never appear in a result.
    public var secrets: [String] {
        didSet { redactor = Redactor(knownSecrets: secrets) }
    }
    private var redactor: Redactor
    private let client: HTTPClient

    /// A client made for probes: a refused connection fails at once (AsyncHTTPClient otherwise
    /// retries establishing it until the time limit, and the probe could only say "timeout"),
    /// and redirects are not followed (a health endpoint that redirects is misconfigured). Shut
    /// it down when done.
    ///
    /// The agent gives it event loops of its own (`eventLoopGroup`), so that a flood of requests
    /// on its HTTP server cannot delay a probe's answer into a timeout.
    public static func probingClient(eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
    }

    /// Creates the check; `client` is the application's (the agent shares one for every check;
    /// ``probingClient()`` makes one fit for probes).
    public init(name: String, url: String, method: String = "GET", headers: [(name: String, value: String)] = [],
                expectedStatuses: Set<Int> = Set(200..<300), observe: ObservedField? = nil, timeout: Duration = .seconds(5),
                slowThreshold: Duration? = nil, maxBodyBytes: Int = 1 << 20, isCritical: Bool = true, secrets: [String] = [],
                client: HTTPClient) {
        self.name = name
        self.url = url
        self.method = method
        self.headers = headers
        self.expectedStatuses = expectedStatuses
        self.observe = observe
        self.timeout = timeout
        self.slowThreshold = slowThreshold
        self.maxBodyBytes = maxBodyBytes
        self.isCritical = isCritical
        self.secrets = secrets
        self.redactor = Redactor(knownSecrets: secrets)
        self.client = client
    }

    public func check() async -> HealthResult {
        var result = await probe()
        if let message = redactor.redacted(result.message) { result.message = message }
        if let observed = redactor.redacted(result.observed) { result.observed = observed }
        return result
    }

    private func probe() async -> HealthResult {
        let clock = ContinuousClock()
        let start = clock.now
        let shownURL = redactor.redacted(DisplayURL.sanitized(url)) ?? DisplayURL.sanitized(url)
        var observed: Attributes = ["url": .string(shownURL)]
        var request = HTTPClientRequest(url: DisplayURL.encodingUserInfo(url))
        request.method = HTTPMethod(rawValue: method.uppercased())
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        do {
            let (status, body) = try await exchange(request)
            observed["status_code"] = .int(Int64(status))
            let latency = start.duration(to: clock.now)
            guard expectedStatuses.contains(status) else {
                let expected = expectedStatuses.count == 1 ? "\(expectedStatuses.first!)" : Self.describe(expectedStatuses)
                return HealthResult(status: .unhealthy, latency: latency, message: "HTTP \(status), expected \(expected)", observed: observed)
            }
            if let observe {
                switch Self.field(observe.path, in: Array(body.readableBytesView)) {
                case .success(let value): observed[observe.name] = value
                case .failure(let problem):
                    return HealthResult(status: .unhealthy, latency: latency, message: "HTTP \(status), but \(problem)", observed: observed)
                }
            }
            if let slowThreshold, latency > slowThreshold {
                return HealthResult(status: .degraded, latency: latency,
                                    message: "HTTP \(status), slower than \(Int64(slowThreshold.milliseconds)) ms", observed: observed)
            }
            return HealthResult(status: .healthy, latency: latency, message: "HTTP \(status)", observed: observed)
        } catch {
            let latency = start.duration(to: clock.now)
            return HealthResult(status: .unhealthy, latency: latency, message: describe(error, shownURL: shownURL), observed: observed)
        }
    }

    /// The request and its body within `timeout`. AsyncHTTPClient's own deadline bounds the
    /// request too, but it fires on an event loop that a busy machine may run late: the limit here
    /// is a race on the caller's side, and the loser is cancelled.
    private func exchange(_ request: HTTPClientRequest) async throws -> (status: Int, body: ByteBuffer) {
        let (client, timeout, readsBody, maxBodyBytes) = (self.client, self.timeout, observe != nil, self.maxBodyBytes)
        return try await withThrowingTaskGroup(of: (status: Int, body: ByteBuffer)?.self) { group in
            group.addTask {
                let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
                var body = ByteBuffer()
                if readsBody {
                    body = try await response.body.collect(upTo: maxBodyBytes)
                } else {
                    for try await _ in response.body {}
                }
                return (Int(response.status.code), body)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else { throw HTTPClientError.deadlineExceeded }
            return answer
        }
    }

    /// Why a request failed, in words, without the URL's secrets.
    private func describe(_ error: any Error, shownURL: String) -> String {
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
                return "no answer from \(shownURL) within \(Int64(timeout.milliseconds)) ms (timeout)"
            case .cancelled: return "cancelled (timeout)"
            case .remoteConnectionClosed: return "\(shownURL) closed the connection"
            default: break
            }
        }
        if error is CancellationError { return "cancelled (timeout)" }
        let text = "\(error)"
        // NIO's connect errors name the address and the errno text; keep them, drop anything URL-like.
        let cleaned = text.replacing(url, with: shownURL)
        if cleaned.contains("connectFailed") || cleaned.lowercased().contains("connection refused") {
            return "connection to \(shownURL) failed: connection refused"
        }
        return "request to \(shownURL) failed: \(cleaned)"
    }

    private static func describe(_ statuses: Set<Int>) -> String {
        let sorted = statuses.sorted()
        if let first = sorted.first, let last = sorted.last, last - first + 1 == sorted.count, sorted.count > 2 { return "\(first)-\(last)" }
        return sorted.map(String.init).joined(separator: " or ")
    }

    /// The value at a dotted path of a JSON body.
    static func field(_ path: String, in body: [UInt8]) -> Result<AttributeValue, FieldProblem> {
        let document: AttributeValue
        do {
            document = try JSONDocument.parse(body)
        } catch {
            return .failure(FieldProblem(text: "the body is not JSON (\(error.reason) at byte \(error.column))"))
        }
        var current = document
        var walked: [Substring] = []
        for part in path.split(separator: ".") {
            walked.append(part)
            switch current {
            case .object(let object):
                guard let next = object[String(part)] else {
                    return .failure(FieldProblem(text: "the body has no field '\(walked.joined(separator: "."))'"))
                }
                current = next
            case .array(let array):
                guard let index = Int(part), array.indices.contains(index) else {
                    return .failure(FieldProblem(text: "the body has no element '\(walked.joined(separator: "."))'"))
                }
                current = array[index]
            default:
                return .failure(FieldProblem(text: "'\(walked.dropLast().joined(separator: "."))' is not an object or array"))
            }
        }
        return .success(current)
    }

    struct FieldProblem: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }
}
#endif
