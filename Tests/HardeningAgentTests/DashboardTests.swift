import Foundation
import Hardening
import HardeningAgent
import HardeningTestKit
import HardeningTestSupport
import Testing

/// `tools/dashboards/`: every series a Grafana (PromQL) or Datadog query names is a family that
/// `/metrics` exposes, with the right type, and every label it groups or filters by is one of that
/// family's labels: checked against the metric catalogue, and against the `/metrics` of a real
/// agent run (names and types from the scrape; the labels of every family with samples from the
/// samples themselves). The logs panels filter on event kinds that exist and on the labels the
/// Promtail configuration of `tools/agents` sets.
@Suite struct DashboardTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let grafana = root.appendingPathComponent("tools/dashboards/grafana/swift-hardening.json").path
    static let datadog = root.appendingPathComponent("tools/dashboards/datadog/swift-hardening.json").path

    /// One query of a panel: the Prometheus series it reads and the labels it groups or filters by.
    struct MetricQuery {
        var panel: String
        var text: String
        var series: [String]
        var labels: [String]
    }

    /// A family as exposed: its type, and the labels it has.
    struct ExposedFamily {
        var type: String
        var labels: Set<String>
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    /// Grafana's targets with their panel and data source type.
    static func grafanaTargets() throws -> [(panel: String, source: String, expr: String)] {
        let panels = try json(grafana)["panels"] as? [[String: Any]] ?? []
        return panels.flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { target in
                let source = (target["datasource"] as? [String: Any])?["type"] as? String
                    ?? (panel["datasource"] as? [String: Any])?["type"] as? String ?? "prometheus"
                return (target["expr"] as? String).map { (panel["title"] as? String ?? "?", source, $0) }
            }
        }
    }

    /// A PromQL expression's series (`hardening_…`) and the labels it groups or matches by
    /// (`job`, the scrape's own, aside).
    static func parse(promQL expression: String, panel: String) -> MetricQuery {
        let grouped = matches(#"by \(([a-z_, ]+)\)"#, in: expression).flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let matched = matches(#"[{,]\s*([a-z_]+)\s*[=!]~?""#, in: expression).filter { $0 != "job" }
        return MetricQuery(panel: panel, text: expression, series: matches(#"\b(hardening_[a-z_]+)\b"#, in: expression), labels: grouped + matched)
    }

    static func grafanaQueries() throws -> [MetricQuery] {
        try grafanaTargets().filter { $0.source == "prometheus" }.map { parse(promQL: $0.expr, panel: $0.panel) }
    }

    /// Datadog's metric queries, as written.
    static func datadogQueryTexts() throws -> [(panel: String, query: String)] {
        let widgets = try json(datadog)["widgets"] as? [[String: Any]] ?? []
        return widgets.flatMap { widget -> [(String, String)] in
            let definition = widget["definition"] as? [String: Any] ?? [:]
            let title = definition["title"] as? String ?? "?"
            return (definition["requests"] as? [[String: Any]] ?? []).flatMap { request in
                (request["queries"] as? [[String: Any]] ?? []).filter { $0["data_source"] as? String == "metrics" }
                    .compactMap { ($0["query"] as? String).map { (title, $0) } }
            }
        }
    }

    /// A Datadog query (`sum:hardening.operation_calls.count{$service,quantile:0.5} by {operation}`)
    /// as the Prometheus series the OpenMetrics check made it from (openmetrics.yaml: namespace
    /// `hardening`, raw prefix `hardening_`): `.count` of a counter is its `_total`; `.sum`,
    /// `.count` and `.bucket` of a histogram its suffixes; anything else a gauge's own name.
    static func parse(datadog query: String, panel: String, families: [String: ExposedFamily]) -> MetricQuery {
        var series: [String] = []
        for name in matches(#"[a-z]+:(hardening\.[a-z0-9_.]+)\{"#, in: query) {
            let parts = name.dropFirst("hardening.".count).split(separator: ".").map(String.init)
            let base = "hardening_" + parts[0]
            switch parts.count > 1 ? parts[1] : nil {
            case "count"? where families[base + "_total"]?.type == "counter": series.append(base + "_total")
            case let suffix? where ["count", "sum", "bucket"].contains(suffix): series.append(base + "_" + suffix)
            case nil: series.append(base)
            default: series.append(name)
            }
        }
        let grouped = matches(#"by \{([a-z_,]+)\}"#, in: query).flatMap { $0.split(separator: ",").map(String.init) }
        let filtered = matches(#"\{([^}]*)\}"#, in: query).flatMap { $0.split(separator: ",") }
            .filter { !$0.hasPrefix("$") && $0.contains(":") }.map { String($0.prefix { $0 != ":" }) }
        return MetricQuery(panel: panel, text: query, series: series, labels: grouped + filtered)
    }

    static func datadogQueries(families: [String: ExposedFamily]) throws -> [MetricQuery] {
        try datadogQueryTexts().map { parse(datadog: $0.query, panel: $0.panel, families: families) }
    }

    /// The catalogue's families (and the server's), as `/metrics` declares them.
    static var catalogue: [String: ExposedFamily] {
        Dictionary(uniqueKeysWithValues: (MetricCatalogue.all + ServerMetricsText.all).map {
            ($0.name, ExposedFamily(type: "\($0.type)", labels: Set($0.labels)))
        })
    }

    /// What is wrong with `queries` against `families`: a series that is not one, a histogram
    /// suffix on another type, a label the family lacks.
    static func problems(in queries: [MetricQuery], families: [String: ExposedFamily]) -> (problems: [String], used: Set<String>) {
        var problems: [String] = []
        var used: Set<String> = []
        for query in queries {
            if query.series.isEmpty { problems.append("\(query.panel): no series in \(query.text)") }
            for name in query.series {
                // A histogram's series: the family's name with _bucket, _sum or _count.
                let base = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && families[$0] == nil ? String($0.dropLast($1.count)) : $0 }
                guard let family = families[base] else {
                    problems.append("\(query.panel): \(name) is not a series /metrics exposes")
                    continue
                }
                used.insert(base)
                if name != base, family.type != "histogram" { problems.append("\(query.panel): \(name) of a \(family.type) family") }
                for label in query.labels where !(["le", "upper_bound"].contains(label) && family.type == "histogram") && !family.labels.contains(label) {
                    problems.append("\(query.panel): uses \(label) of \(name), which does not have it (\(family.labels.sorted()))")
                }
            }
        }
        return (problems, used)
    }

    @Test func everyQueryNamesASeriesOfTheCatalogueAndItsLabels() throws {
        let grafana = try Self.grafanaQueries()
        let datadog = try Self.datadogQueries(families: Self.catalogue)
        #expect(grafana.count >= 20 && datadog.count >= 20, "the dashboards' queries were read: \(grafana.count), \(datadog.count)")
        for (name, queries) in [("grafana", grafana), ("datadog", datadog)] {
            let (problems, used) = Self.problems(in: queries, families: Self.catalogue)
            #expect(problems.isEmpty, "\(name): \(problems.joined(separator: "\n"))")
            // The main families each have a panel.
            for family in [MetricCatalogue.calls, MetricCatalogue.callErrors, MetricCatalogue.breakerState, MetricCatalogue.events] {
                #expect(used.contains(family.name), "\(name): \(family.name) has no panel")
            }
        }
    }

    @Test func aQueryForAMissingSeriesOrLabelIsCaught() {
        let good = Self.parse(promQL: #"sum by (operation, le) (rate(hardening_operation_duration_seconds_bucket{job=~"$job"}[5m]))"#, panel: "ok")
        #expect(good.series == ["hardening_operation_duration_seconds_bucket"] && good.labels == ["operation", "le"])
        #expect(Self.problems(in: [good], families: Self.catalogue).problems.isEmpty)
        let broken = [
            Self.parse(promQL: "rate(hardening_operation_latency_total[5m])", panel: "made-up"),
            Self.parse(promQL: "sum by (sink) (rate(hardening_sink_lost_events_total[5m]))", panel: "wrong label"),
            Self.parse(promQL: "rate(hardening_operation_calls_total_bucket[5m])", panel: "bucket of a counter"),
            Self.parse(promQL: "vector(1)", panel: "no series"),
            Self.parse(promQL: #"hardening_breaker_state{state="open", color="red"}"#, panel: "matcher on a missing label"),
            Self.parse(datadog: "sum:hardening.operation_call.count{$service} by {operation}", panel: "made-up datadog", families: Self.catalogue),
            Self.parse(datadog: "max:hardening.breaker_state{$host,colour:red} by {breaker}", panel: "datadog tag", families: Self.catalogue),
            Self.parse(datadog: "sum:hardening.operation_calls.bucket{*}", panel: "datadog bucket of a counter", families: Self.catalogue),
        ]
        let problems = Self.problems(in: broken, families: Self.catalogue).problems
        #expect(problems.count == broken.count, "each broken query is caught: \(problems)")
        let datadog = Self.parse(datadog: "sum:hardening.health_probe_duration_seconds.sum{$service,$host} by {check}.as_count()", panel: "d",
                                 families: Self.catalogue)
        #expect(datadog.series == ["hardening_health_probe_duration_seconds_sum"] && datadog.labels == ["check"])
        let counter = Self.parse(datadog: "sum:hardening.operation_calls.count{$service} by {operation}.as_rate()", panel: "c", families: Self.catalogue)
        #expect(counter.series == ["hardening_operation_calls_total"])
    }

    /// The logs panels: Loki's stream selectors use the labels Promtail sets and name kinds that
    /// exist; Datadog's log stream asks for `source:hardening` (tools/agents/datadog) and kinds
    /// that exist.
    @Test func theLogsPanelsAskForKindsThatExistThroughLabelsTheShippersSet() throws {
        let known = Set(EventKind.known.map(\.rawValue))
        let loki = try Self.grafanaTargets().filter { $0.source == "loki" }
        #expect(loki.count >= 2)
        let promtail = try String(contentsOfFile: Self.root.appendingPathComponent("tools/agents/promtail/promtail.yaml").path, encoding: .utf8)
        for target in loki {
            let selector = Self.matches(#"\{([^}]*)\}"#, in: target.expr).first ?? ""
            for label in Self.matches(#"([a-z_]+)\s*=~?"#, in: selector) {
                #expect(label == "job" || promtail.contains("\n          \(label):"), "\(target.panel): \(label) is not a label Promtail sets")
            }
            let kinds = Self.matches(#"event=~"([^"]+)""#, in: selector).flatMap { $0.split(separator: "|").map(String.init) }
            #expect(kinds.allSatisfy(known.contains), "\(target.panel): \(kinds.filter { !known.contains($0) }) are no kinds")
        }
        let widgets = try Self.json(Self.datadog)["widgets"] as? [[String: Any]] ?? []
        let logQueries = widgets.compactMap { widget -> String? in
            let requests = (widget["definition"] as? [String: Any])?["requests"] as? [[String: Any]] ?? []
            return requests.compactMap { ($0["query"] as? [String: Any])?["query_string"] as? String }.first
        }
        #expect(logQueries.count == 1)
        let datadogAgent = try String(contentsOfFile: Self.root.appendingPathComponent("tools/agents/datadog/conf.yaml").path, encoding: .utf8)
        for query in logQueries {
            #expect(query.contains("source:hardening") && datadogAgent.contains("source: hardening"))
            let kinds = Self.matches(#"@event:\(([^)]+)\)"#, in: query).flatMap { $0.components(separatedBy: " OR ") }
            #expect(!kinds.isEmpty && kinds.allSatisfy(known.contains), "\(kinds.filter { !known.contains($0) }) are no kinds")
        }
    }

    /// A real agent whose dependency is down: probes fail, alerts fire, the webhook (nothing
    /// listens) retries, errors and opens its breaker. Every query of both dashboards names a
    /// family its `/metrics` declares, with the same type; for each family with samples, the
    /// labels the query uses are in the samples.
    @Test func everyQueryNamesASeriesALiveAgentExposes() async throws {
        let directory = TemporaryDirectory(prefix: "dashboard-live")
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            service: dashboard-check
            server: {host: 127.0.0.1, port: 0}
            events: {stdout: "off"}
            health:
              interval: 100ms
              timeout: 1s
              checks:
                - {name: vector-store, type: tcp, host: 127.0.0.1, port: 1}
                - {name: events, type: sinks}
            alerts:
              rules:
                - {name: consecutive_failures, consecutive_failures: 2, resolve_after: 2}
                - {name: error_rate, failure_ratio: 0.5, window: 4, minimum_probes: 2}
              webhook: {url: "http://127.0.0.1:1/alerts", timeout: 1s, attempts: 4}
            """)
        let child = try AgentProcessTests.AgentChild(config: directory.path + "/agent.yaml", directory: directory.path, environment: [:])
        let port = try await child.port()
        let open = #"hardening_breaker_state{breaker="webhook",state="open"} 1"#
        let scrape = try await HTTPHealthCheckTests.withClient { client in
            try await eventually(timeout: .seconds(30)) { try await AgentProcessTests.get(client, "http://127.0.0.1:\(port)/metrics").body } until: {
                $0.contains(open)
            }
        }
        #expect(try await child.terminate() == 0, "\(child.stderr)")
        #expect(scrape.contains(open), "the webhook's breaker opened")
        let live = Self.exposedFamilies(scrape)
        #expect(Set(live.keys) == Set(Self.catalogue.keys), "every family is declared: \(Set(Self.catalogue.keys).symmetricDifference(live.keys).sorted())")
        // Names and types from the scrape; labels from the samples where there are samples, from
        // the catalogue where the family has none yet.
        var families = live
        for (family, exposed) in live where exposed.labels.isEmpty { families[family]?.labels = Self.catalogue[family]?.labels ?? [] }
        let withSamples = live.filter { !$0.value.labels.isEmpty }.keys
        #expect(withSamples.contains("hardening_breaker_state") && withSamples.contains("hardening_health_status"), "\(withSamples.sorted())")
        for (name, queries) in [("grafana", try Self.grafanaQueries()), ("datadog", try Self.datadogQueries(families: live))] {
            let (problems, _) = Self.problems(in: queries, families: families)
            #expect(problems.isEmpty, "\(name): \(problems.joined(separator: "\n"))")
        }
    }

    /// `server.dashboard: false`: the pages and the stream are not there, the rest is.
    @Test func anAgentWithoutItsDashboardServesNoneOfIt() async throws {
        let directory = TemporaryDirectory(prefix: "dashboard-off")
        defer { directory.remove() }
        try directory.write("agent.yaml", """
            server: {host: 127.0.0.1, port: 0, dashboard: false}
            events: {stdout: "off"}
            """)
        let child = try AgentProcessTests.AgentChild(config: directory.path + "/agent.yaml", directory: directory.path, environment: [:])
        let port = try await child.port()
        let statuses = try await HTTPHealthCheckTests.withClient { client in
            var statuses: [String: Int] = [:]
            for path in ["/dashboard", "/dashboard/view", "/events/stream", "/health/live"] {
                statuses[path] = try await AgentProcessTests.get(client, "http://127.0.0.1:\(port)\(path)").status
            }
            return statuses
        }
        #expect(try await child.terminate() == 0, "\(child.stderr)")
        #expect(statuses == ["/dashboard": 404, "/dashboard/view": 404, "/events/stream": 404, "/health/live": 200], "\(statuses)")
    }

    /// The families of an exposition: type from `# TYPE`, labels from the samples (a
    /// histogram's `le` aside).
    static func exposedFamilies(_ text: String) -> [String: ExposedFamily] {
        var families: [String: ExposedFamily] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { families[String(parts[2])] = ExposedFamily(type: String(parts[3]), labels: []) }
                continue
            }
            guard !line.hasPrefix("#"), let brace = line.firstIndex(of: "{") else { continue }
            var name = String(line[..<brace])
            if families[name] == nil, let suffix = ["_bucket", "_sum", "_count"].first(where: { name.hasSuffix($0) }) {
                name = String(name.dropLast(suffix.count))
            }
            let labels = matches(#"([a-z_]+)="(?:[^"\\]|\\.)*""#, in: String(line[brace...])).filter { $0 != "le" }
            families[name]?.labels.formUnion(labels)
        }
        return families
    }
}

extension LoadTests {
    @Suite struct AgentStreamDrop {
        /// Through the `hardening agent` process a user runs: with a 16 KiB queue per stream client,
        /// a client that never reads (4 KiB receive buffer) is dropped, its connection closed and the
        /// drop counted in `/metrics`, while a reader keeps its stream and `/health/live` answers.
        /// (Probes every 10 ms, each its own event with `detail: full`, fill the silent client's
        /// buffers within seconds: a load for the cores.)
        @Test func theAgentDropsAStreamClientThatNeverReadsAndCountsIt() async throws {
            let directory = TemporaryDirectory(prefix: "stream-drop")
            defer { directory.remove() }
            try directory.write("agent.yaml", """
                server: {host: 127.0.0.1, port: 0, stream_client_queue_kib: 16}
                events: {stdout: "off", detail: full}
                health:
                  interval: 10ms
                  checks:
                    - {name: a, type: tcp, host: 127.0.0.1, port: 1}
                    - {name: b, type: tcp, host: 127.0.0.1, port: 1}
                    - {name: c, type: tcp, host: 127.0.0.1, port: 1}
                    - {name: d, type: tcp, host: 127.0.0.1, port: 1}
                    - {name: e, type: tcp, host: 127.0.0.1, port: 1}
                    - {name: f, type: tcp, host: 127.0.0.1, port: 1}
                    - {name: events, type: sinks}
                """)
            let child = try AgentProcessTests.AgentChild(config: directory.path + "/agent.yaml", directory: directory.path, environment: [:])
            let port = try await child.port()
            let silent = try #require(EventStreamClient(port: port, path: "/events/stream", receiveBuffer: 4_096))
            let reader = try #require(EventStreamClient(port: port, path: "/events/stream?kinds=health.probed"))
            reader.startReading(quietFor: 20)
            let dropped = #"hardening_stream_clients_dropped_total 1"#
            let metrics = try await HTTPHealthCheckTests.withClient { client in
                try await eventually(timeout: .seconds(60)) { try await AgentProcessTests.get(client, "http://127.0.0.1:\(port)/metrics").body } until: {
                    $0.contains(dropped)
                }
            }
            let live = try await HTTPHealthCheckTests.withClient { try await AgentProcessTests.get($0, "http://127.0.0.1:\(port)/health/live").status }
            let readBefore = reader.frames
            #expect(await eventually(timeout: .seconds(10)) { reader.frames > readBefore }, "the reader's stream goes on")
            #expect(try await child.terminate() == 0, "\(child.stderr)")
            #expect(metrics.contains(dropped) && metrics.contains("hardening_stream_clients 1\n"), "\(metrics.suffix(1500))")
            #expect(live == 200)
            try await onOwnThread { silent.readUntilClosed(quietFor: 10) }
            #expect(silent.closedByServer, "the silent client's connection was closed")
            #expect(await eventually(timeout: .seconds(20)) { reader.finished } && reader.closedByServer, "the reader's stream ended at SIGTERM")
        }
    }
}
