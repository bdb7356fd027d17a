// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import AsyncHTTPClient
import Hardening

/// The guide's `scripts/health_check.py`, from the environment and `.env` alone: Notion,
/// Pinecone (with `total_vectors`) and OpenAI connectivity and latency, Zotero where it is
/// configured, and configuration health (the RAG preset's rules).
///
/// Each service's base URL can be pointed elsewhere (a proxy, a test server) by a variable:
/// `NOTION_BASE_URL`, `PINECONE_BASE_URL` (the index's host, as `https://…`; or
/// `PINECONE_INDEX_HOST`), `OPENAI_BASE_URL` (as the OpenAI SDKs read it, ending in `/v1`) and
/// `ZOTERO_BASE_URL`. A service whose key is missing is unhealthy and says which variable to set;
/// Zotero is left out unless `ZOTERO_API_KEY` is set.
public enum GuideHealthChecks {
    /// What is probed for one service.
    public struct Service: Sendable, Hashable {
        /// The check's name in reports (`Notion API`).
        public var name: String
        /// The variable that overrides the base URL.
        public var baseURLVariable: String
        /// The base URL when the variable is not set (`nil`: none; the variable is required).
        public var defaultBaseURL: String?
        /// The path probed under the base URL.
        public var path: String
        /// The keys the probe needs, in order (the first is the credential).
        public var requiredKeys: [String]
    }

    /// Notion: `GET /v1/users/me` with the integration's token.
    public static let notion = Service(name: "Notion API", baseURLVariable: "NOTION_BASE_URL", defaultBaseURL: "https://api.notion.com",
                                       path: "/v1/users/me", requiredKeys: ["NOTION_API_KEY"])
    /// Pinecone: `GET /describe_index_stats` on the index's host, `totalVectorCount` observed as
    /// `total_vectors`.
    public static let pinecone = Service(name: "Pinecone API", baseURLVariable: "PINECONE_BASE_URL", defaultBaseURL: nil,
                                         path: "/describe_index_stats", requiredKeys: ["PINECONE_API_KEY"])
    /// OpenAI: `GET /models` under the API's base URL.
    public static let openAI = Service(name: "OpenAI API", baseURLVariable: "OPENAI_BASE_URL", defaultBaseURL: "https://api.openai.com/v1",
                                       path: "/models", requiredKeys: ["OPENAI_API_KEY"])
    /// Zotero (probed only when `ZOTERO_API_KEY` is set): one item of the user's library.
    public static let zotero = Service(name: "Zotero API", baseURLVariable: "ZOTERO_BASE_URL", defaultBaseURL: "https://api.zotero.org",
                                       path: "/users/{ZOTERO_LIBRARY_ID}/items?limit=1", requiredKeys: ["ZOTERO_API_KEY", "ZOTERO_LIBRARY_ID"])

    /// The checks for `sources` (the environment and `.env`), each within `timeout`, over `client`.
    public static func checks(_ sources: ConfigSources, client: HTTPClient, timeout: Duration) -> [any HealthCheck] {
        var checks: [any HealthCheck] = []
        for service in [notion, pinecone, openAI] {
            checks.append(check(service, sources, client: client, timeout: timeout))
        }
        if sources.value(of: "ZOTERO_API_KEY") != nil {
            checks.append(check(zotero, sources, client: client, timeout: timeout))
        }
        let validator = ConfigValidator(rules: ConfigRule.ragService)
        checks.append(ConfigHealthCheck(name: "Configuration", validator: validator) { sources })
        return checks
    }

    private static func check(_ service: Service, _ sources: ConfigSources, client: HTTPClient, timeout: Duration) -> any HealthCheck {
        let values = service.requiredKeys.map { sources.value(of: $0)?.value }
        if let missing = zip(service.requiredKeys, values).first(where: { $0.1 == nil })?.0 {
            return FixedHealthCheck(name: service.name, result: HealthResult(status: .unhealthy, message: "\(missing) is not set"))
        }
        guard let base = baseURL(service, sources) else {
            return FixedHealthCheck(name: service.name, result: HealthResult(
                status: .unhealthy, message: "\(service.baseURLVariable) (or PINECONE_INDEX_HOST) is not set: the index's host, from the Pinecone console"))
        }
        var path = service.path
        for (key, value) in zip(service.requiredKeys, values) { path = Self.replacing("{\(key)}", in: path, with: value!) }
        let key = values[0]!
        let headers: [(name: String, value: String)]
        var observe: HTTPHealthCheck.ObservedField?
        switch service.name {
        case notion.name: headers = [("Authorization", "Bearer \(key)"), ("Notion-Version", "2022-06-28")]
        case pinecone.name:
            headers = [("Api-Key", key)]
            observe = .init(path: "totalVectorCount", name: "total_vectors")
        case zotero.name: headers = [("Zotero-API-Key", key)]
        default: headers = [("Authorization", "Bearer \(key)")]
        }
        return HTTPHealthCheck(name: service.name, url: base + path, headers: headers, observe: observe, timeout: timeout,
                               secrets: values.compactMap { $0 }, client: client)
    }

    /// `text` with every `placeholder` replaced.
    static func replacing(_ placeholder: String, in text: String, with value: String) -> String {
        text.split(separator: placeholder, omittingEmptySubsequences: false).joined(separator: value)
    }

    /// The service's base URL, without a trailing slash.
    static func baseURL(_ service: Service, _ sources: ConfigSources) -> String? {
        var base = sources.value(of: service.baseURLVariable)?.value ?? service.defaultBaseURL
        if base == nil, service == pinecone, let host = sources.value(of: "PINECONE_INDEX_HOST")?.value {
            base = host.hasPrefix("http://") || host.hasPrefix("https://") ? host : "https://" + host
        }
        guard var url = base, !url.isEmpty else { return nil }
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

/// A check whose answer is known before probing (a service that cannot be probed: its key is
/// missing).
struct FixedHealthCheck: HealthCheck {
    var name: String
    var isCritical = true
    let result: HealthResult

    init(name: String, result: HealthResult) {
        self.name = name
        self.result = result
    }

    func check() async -> HealthResult { result }
}
#endif
