import Foundation
import Hardening
import HardeningAgent
import HardeningLog
import HardeningTestKit
import Testing
import Yams

/// `examples/kubernetes/`: the manifests parse, and their ports, paths and timings agree with the
/// agent configuration they mount (loaded by the agent's own loader) and with the application.
@Suite struct KubernetesExampleTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/kubernetes").path

    /// Every YAML document of the example manifests.
    static func documents() throws -> [[String: Any]] {
        var documents: [[String: Any]] = []
        for name in ["deployment.yaml", "hardening-configmap.yaml"] {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            for document in try Yams.load_all(yaml: text) {
                guard let object = document as? [String: Any] else { throw Malformed(text: "\(name): a document that is not a mapping") }
                documents.append(object)
            }
        }
        return documents
    }

    struct Malformed: Error, CustomStringConvertible { var text: String; var description: String { text } }

    /// The manifests, read.
    struct Example {
        var deployment: [String: Any]
        var podSpec: [String: Any]
        var podAnnotations: [String: String]
        var agent: [String: Any]
        var app: [String: Any]
        var configuration: AgentConfiguration
        var configMapName: String

        init() throws {
            let documents = try KubernetesExampleTests.documents()
            guard let deployment = documents.first(where: { $0["kind"] as? String == "Deployment" }),
                  let configMap = documents.first(where: { $0["kind"] as? String == "ConfigMap" }),
                  let text = (configMap["data"] as? [String: Any])?["hardening.yaml"] as? String,
                  let template = (deployment["spec"] as? [String: Any])?["template"] as? [String: Any],
                  let podSpec = template["spec"] as? [String: Any],
                  let agent = (podSpec["initContainers"] as? [[String: Any]])?.first(where: { $0["name"] as? String == "hardening-agent" }),
                  let app = (podSpec["containers"] as? [[String: Any]])?.first(where: { $0["name"] as? String == "rag-service" })
            else { throw Malformed(text: "the Deployment, the ConfigMap with hardening.yaml, or a container is missing") }
            self.deployment = deployment
            self.podSpec = podSpec
            self.podAnnotations = ((template["metadata"] as? [String: Any])?["annotations"] as? [String: String]) ?? [:]
            self.agent = agent
            self.app = app
            self.configMapName = ((configMap["metadata"] as? [String: Any])?["name"] as? String) ?? ""
            // The agent's own loader, with the Secret's variables set as the pod sets them.
            let scratch = TemporaryDirectory()
            defer { scratch.remove() }
            try scratch.write("hardening.yaml", text)
            configuration = try AgentConfiguration.load(path: scratch.path + "/hardening.yaml", environment: [
                "OPENAI_API_KEY": "sk-test", "PINECONE_API_KEY": "pc-test", "PINECONE_INDEX_HOST": "index.example.io",
            ])
        }

        /// The container port a probe or annotation names (by number or by port name).
        func port(_ reference: Any?, of container: [String: Any]) -> Int? {
            if let number = reference as? Int { return number }
            if let text = reference as? String, let number = Int(text) { return number }
            let ports = container["ports"] as? [[String: Any]] ?? []
            return ports.first { $0["name"] as? String == reference as? String }?["containerPort"] as? Int
        }

        func probe(_ name: String, of container: [String: Any]) -> (path: String?, port: Int?, period: Int, failures: Int) {
            let probe = container[name] as? [String: Any] ?? [:]
            let get = probe["httpGet"] as? [String: Any] ?? [:]
            return (get["path"] as? String, port(get["port"], of: container),
                    probe["periodSeconds"] as? Int ?? 10, probe["failureThreshold"] as? Int ?? 3)
        }
    }

    @Test func theAgentSidecarMountsItsConfigurationAndIsProbedWhereItListens() throws {
        let example = try Example()
        #expect(example.agent["restartPolicy"] as? String == "Always", "a native sidecar: started first, stopped last")
        let arguments = example.agent["args"] as? [String] ?? []
        #expect(arguments.first == "agent")
        let configPath = arguments.firstIndex(of: "--config").map { arguments[$0 + 1] }
        let mount = (example.agent["volumeMounts"] as? [[String: Any]])?.first
        let volume = (example.podSpec["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == mount?["name"] as? String }
        #expect(configPath == (mount?["mountPath"] as? String ?? "") + "/hardening.yaml")
        #expect((volume?["configMap"] as? [String: Any])?["name"] as? String == example.configMapName)

        let server = example.configuration.server
        #expect(server.host == "0.0.0.0", "the kubelet's probes come to the pod's address")
        let liveness = example.probe("livenessProbe", of: example.agent)
        let readiness = example.probe("readinessProbe", of: example.agent)
        #expect(liveness.path == "/health/live" && liveness.port == server.port)
        #expect(readiness.path == "/health/ready" && readiness.port == server.port)
        #expect(HardeningEndpoints<ContinuousClock>.paths.contains(liveness.path ?? "") && HardeningEndpoints<ContinuousClock>.paths.contains(readiness.path ?? ""))
        #expect(example.probe("startupProbe", of: example.agent).port == server.port)
    }

    @Test func theGracePeriodCoversTheDrainAndTheShutdownTimeoutAndReadinessFailsWithinTheDrain() throws {
        let example = try Example()
        let grace = example.podSpec["terminationGracePeriodSeconds"] as? Int ?? 30
        let drain = example.configuration.shutdownDrain.seconds
        let timeout = example.configuration.shutdownTimeout.seconds
        #expect(drain > 0, "a drain, so that readiness turns 503 while the server still answers")
        // The application stops first (the sidecar after it), then the agent's drain and timeout.
        #expect(Double(grace) >= drain + timeout + 5, "grace \(grace) s >= drain \(drain) s + timeout \(timeout) s + the application's stop")
        let readiness = example.probe("readinessProbe", of: example.agent)
        #expect(Double(readiness.period * readiness.failures) <= drain,
                "readiness seen failing (\(readiness.period) s x \(readiness.failures)) within the drain (\(drain) s)")
    }

    @Test func theApplicationListensOnThePodAddressAndIsProbedOnItsEmbeddedRoutes() throws {
        let example = try Example()
        let arguments = example.app["args"] as? [String] ?? []
        let host = arguments.firstIndex(of: "--host").map { arguments[$0 + 1] }
        let port = arguments.firstIndex(of: "--port").flatMap { Int(arguments[$0 + 1]) }
        #expect(host == "0.0.0.0")
        #expect(port != nil && example.port("http", of: example.app) == port)
        #expect(example.probe("livenessProbe", of: example.app).path == "/health/live")
        #expect(example.probe("readinessProbe", of: example.app).path == "/health/ready")
        #expect(example.probe("readinessProbe", of: example.app).port == port)
        // The agent probes the application in the same pod, at the port it listens on.
        let check = example.configuration.health.checks.first { $0.name == "rag-service" }
        guard case .http(let url, _, _, _, _)? = check?.kind else {
            Issue.record("the agent has no http check of the application")
            return
        }
        #expect(url.contains("127.0.0.1:\(port ?? -1)/health/live"))
    }

    @Test func stdoutIsJSONWithinTheRuntimesLineLimitAndNoFileSink() throws {
        let example = try Example()
        #expect(example.configuration.events.stdout == "json")
        #expect(example.configuration.events.stdoutMaxLineBytes <= 16 * 1024)
        #expect(example.configuration.events.files == nil, "in a container stdout is the log")
    }

    @Test func theAnnotationsPointPrometheusAndDatadogAtTheAgent() throws {
        let example = try Example()
        let annotations = example.podAnnotations
        #expect(annotations["prometheus.io/scrape"] == "true")
        #expect(annotations["prometheus.io/port"].flatMap(Int.init) == example.configuration.server.port)
        #expect(annotations["prometheus.io/path"] == "/metrics")
        for container in [example.agent, example.app] {
            let name = container["name"] as? String ?? ""
            let text = annotations["ad.datadoghq.com/\(name).logs"] ?? ""
            let logs = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]]
            #expect(logs?.first?["service"] as? String == example.configuration.service, "\(name): \(text)")
            #expect(logs?.first?["source"] as? String == "hardening")
        }
    }

    @Test func thePodLogPipelinesUnwrapCRIBeforeParsingJSON() throws {
        let promtail = try String(contentsOfFile: Self.directory + "/promtail-pod-logs.yaml", encoding: .utf8)
        let parsed = try Yams.load(yaml: promtail) as? [String: Any]
        let job = (parsed?["scrape_configs"] as? [[String: Any]])?.first
        let stages = (job?["pipeline_stages"] as? [[String: Any]] ?? []).compactMap(\.keys.first)
        #expect(Array(stages.prefix(2)) == ["cri", "json"], "\(stages)")
        let alloy = try String(contentsOfFile: Self.directory + "/alloy-pod-logs.alloy", encoding: .utf8)
        let cri = alloy.range(of: "stage.cri {}")
        let json = alloy.range(of: "stage.json {")
        #expect(cri != nil && json != nil && cri!.lowerBound < json!.lowerBound)
        #expect(alloy.contains("\"/var/log/pods/*$1/*.log\""))
    }
}
