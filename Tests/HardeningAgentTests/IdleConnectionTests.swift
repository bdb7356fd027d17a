import AsyncHTTPClient
import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Connections that never speak are closed by the agent after `server.idle_timeout`, and a pile of
/// them does not keep `/health/live` from answering; HEAD and other methods get proper answers.
@Suite(.serialized) struct IdleConnectionTests {
    /// Whether the server closed `descriptor` (a read returns end of file) within `seconds`.
    private static func closedByServer(_ descriptor: Int32, within seconds: Int32) -> Bool {
        var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, seconds * 1000) == 1 else { return false }
        var byte: UInt8 = 0
        return read(descriptor, &byte, 1) == 0
    }

    /// The short version of `tools/load/agent_flood.py` (the full sizes are in README's
    /// reliability table): 600 idle and 50 slowloris connections against a limit of 512 while
    /// /health/live is asked every 50 ms; 50 clients polling /summary while a healthy upstream is
    /// probed every 250 ms with a 1 s timeout; HTTP/1.0 closes; a reader that never reads is
    /// closed at the request timeout. The latency bound is loose here (the whole suite shares two
    /// cores); the script's own default (100 ms at p99) is for a quiet machine.
    @Test func aFloodOfIdleSlowAndPollingClientsCannotTakeTheAgentDown() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("tools/load/agent_flood.py").path
        let run = try await ChildProcess.runDetached([
            "python3", script, "--binary", ChildProcess.hardeningExecutable, "--idle", "600", "--slow", "50", "--clients", "50",
            "--seconds", "4", "--idle-timeout", "4", "--header-timeout", "1", "--request-timeout", "2", "--max-live-ms", "2000",
        ])
        let output = String(decoding: run.stdout, as: UTF8.self)
        #expect(run.status == 0, "\(output)\n\(run.stderr)")
        let last = try JSONDocument.parse(Array((output.split(separator: "\n").last ?? "").utf8))
        #expect(last["problems"] == .array([]), "\(output)")
        guard case .array(let results)? = last["results"] else {
            Issue.record("no results: \(output)")
            return
        }
        #expect(results.count == 3)
        let idle = results[0]
        #expect(idle["idle_closed_by_server"] == .int(600) && idle["slowloris_closed_by_server"] == .int(50), "\(output)")
        #expect(idle["live_failures"] == .int(0))
        if case .int(let shed)? = idle["server_metrics"]?["hardening_server_connections_shed_total"] {
            // Opened within the idle timeout, 600 idle connections pass the limit of 512 and
            // some are shed; opened more slowly (a busy machine), the first are closed by the
            // idle timeout before the last open, and the limit is never reached.
            if let openSeconds = idle["open_seconds"]?.doubleValue, openSeconds < 4 {
                #expect(shed > 0, "600 idle connections opened in \(openSeconds) s against a limit of 512 shed some")
            }
        } else {
            Issue.record("no shed count: \(output)")
        }
        #expect(results[1]["alerts_fired"] == .int(0) && results[1]["upstream_probes"]?["unhealthy"] == nil, "\(output)")
    }

    @Test func idleConnectionsAreClosedAfterTheTimeoutAndLivenessStillAnswers() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            server: {host: 127.0.0.1, port: 0, idle_timeout: 1s}
            events: {stdout: off}
            """)
        let child = try AgentProcessTests.AgentChild(config: directory.path + "/agent.yaml", directory: directory.path, environment: [:])
        let port = try await child.port()
        let idle = (0..<200).compactMap { _ in LoopbackSocket.connect(port) }
        defer { idle.forEach { close($0) } }
        #expect(idle.count == 200)
        // The client is shut down whatever happens (one left running crashes the test process).
        try await HTTPHealthCheckTests.withClient { client in
            let live = try await AgentProcessTests.get(client, "http://127.0.0.1:\(port)/health/live")
            #expect(live.status == 200, "/health/live answers with 200 idle connections open")
            // HEAD answers like GET, without a body; other methods are 405 with Allow.
            var head = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/ready")
            head.method = .HEAD
            let headAnswer = try await client.execute(head, timeout: .seconds(30))
            #expect(headAnswer.status.code == 200 && headAnswer.headers.first(name: "cache-control") == "no-store")
            #expect(try await headAnswer.body.collect(upTo: 1 << 20).readableBytes == 0)
            var post = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health")
            post.method = .POST
            let postAnswer = try await client.execute(post, timeout: .seconds(30))
            #expect(postAnswer.status.code == 405 && postAnswer.headers.first(name: "allow") == "GET, HEAD")
        }
        // Each idle connection is closed by the server within the timeout (plus scheduling slack).
        let closed = idle.filter { Self.closedByServer($0, within: 5) }.count
        #expect(closed == idle.count, "\(idle.count - closed) idle connections were still open")
        #expect(try await child.terminate() == 0, "\(child.stderr)")
    }
}
