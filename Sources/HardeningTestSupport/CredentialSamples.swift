/// Fake credentials of every shape the redactor knows, and the contexts credentials appear in,
/// for tests that prove no secret reaches an output: each ``Case`` is a text with one credential
/// in one context and a unique marker next to it (the positive control: the marker must arrive,
/// the credential must not). The values are made up; none is a working credential.
public enum CredentialSamples {
    /// One fake credential.
    public struct Sample: Sendable {
        /// The provider or kind.
        public var provider: String
        /// The credential.
        public var secret: String
        /// For credentials without a shape of their own: the key that names them (they are
        /// caught only as the value of that key).
        public var key: String?
    }

    /// One credential in one context.
    public struct Case: Sendable {
        /// `case-17`: the marker, also in the text.
        public var marker: String
        /// The provider and the context, for messages.
        public var name: String
        /// The text that carries the credential.
        public var text: String
        /// The credential that must not appear.
        public var secret: String
        /// When the context is an attr: its key (the text is then its value).
        public var attrKey: String?

        /// Parts of the secret that must not appear either (a redaction that cut the credential
        /// in two would leave one of them).
        public var forbiddenParts: [String] {
            let characters = Array(secret)
            guard characters.count >= 24 else { return [secret] }
            return [secret, String(characters.prefix(12)), String(characters.suffix(12))]
        }
    }

    private static func repeated(_ alphabet: String, _ count: Int, seed: Int) -> String {
        let characters = Array(alphabet)
        return String((0..<count).map { characters[($0 * 7 + seed * 13 + $0 / 3) % characters.count] })
    }

    private static let alphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    private static let hex = "0123456789abcdef"

    /// A credential of every shape, and the keyed ones.
    public static let samples: [Sample] = [
        Sample(provider: "OpenAI", secret: "sk-" + repeated(alphanumeric, 48, seed: 1)),
        Sample(provider: "OpenAI project", secret: "sk-proj-" + repeated(alphanumeric + "_-", 64, seed: 2)),
        Sample(provider: "Anthropic", secret: "sk-ant-api03-" + repeated(alphanumeric + "_-", 80, seed: 3)),
        Sample(provider: "AWS access key id", secret: "AKIA" + repeated("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, seed: 4)),
        Sample(provider: "AWS secret access key", secret: repeated(alphanumeric + "+/", 40, seed: 5), key: "aws_secret_access_key"),
        Sample(provider: "GitHub classic", secret: "ghp_" + repeated(alphanumeric, 36, seed: 6)),
        Sample(provider: "GitHub fine-grained", secret: "github_pat_11" + repeated(alphanumeric, 20, seed: 7) + "_" + repeated(alphanumeric, 59, seed: 8)),
        Sample(provider: "GitLab", secret: "glpat-" + repeated(alphanumeric + "_-", 20, seed: 9)),
        Sample(provider: "Slack", secret: "xoxb-123456789012-1234567890123-" + repeated(alphanumeric, 24, seed: 10)),
        Sample(provider: "Stripe", secret: "sk_live_51" + repeated(alphanumeric, 40, seed: 11)),
        Sample(provider: "Google API key", secret: "AIza" + repeated(alphanumeric + "_-", 35, seed: 12)),
        Sample(provider: "Hugging Face", secret: "hf_" + repeated("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 34, seed: 13)),
        Sample(provider: "npm", secret: "npm_" + repeated(alphanumeric, 36, seed: 14)),
        Sample(provider: "SendGrid", secret: "SG." + repeated(alphanumeric + "_-", 22, seed: 15) + "." + repeated(alphanumeric + "_-", 43, seed: 16)),
        Sample(provider: "Twilio API key", secret: "SK" + repeated(hex, 32, seed: 17)),
        Sample(provider: "Twilio auth token", secret: repeated(hex, 32, seed: 18), key: "TWILIO_AUTH_TOKEN"),
        Sample(provider: "Datadog API key", secret: repeated(hex, 32, seed: 19), key: "DD_API_KEY"),
        Sample(provider: "Datadog application key", secret: repeated(hex, 40, seed: 20), key: "DD_APP_KEY"),
        Sample(provider: "Notion", secret: "ntn_" + repeated(alphanumeric, 46, seed: 21)),
        Sample(provider: "Notion legacy", secret: "secret_" + repeated(alphanumeric, 43, seed: 22)),
        Sample(provider: "Pinecone", secret: "pcsk_" + repeated(alphanumeric, 8, seed: 23) + "_" + repeated(alphanumeric, 50, seed: 24)),
        Sample(provider: "Zotero", secret: repeated(alphanumeric, 24, seed: 25), key: "ZOTERO_API_KEY"),
        Sample(provider: "password", secret: "Hunter2-" + repeated(alphanumeric, 10, seed: 26), key: "password"),
        Sample(provider: "client secret", secret: repeated(alphanumeric + "~._-", 34, seed: 27), key: "client_secret"),
        Sample(provider: "JWT", secret: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiI" + repeated(alphanumeric, 30, seed: 28) + "." + repeated(alphanumeric + "_-", 43, seed: 29)),
    ]

    /// Contexts for a credential with a shape of its own (`{S}` the secret).
    static let shapeContexts: [(name: String, template: String)] = [
        ("bare", "the call failed with {S} in the request"),
        ("after =", "VALUE={S}"),
        ("after : ", "value: {S}"),
        ("double-quoted", #"got "{S}" back"#),
        ("single-quoted", "got '{S}' back"),
        ("URL query", "GET https://api.example.com/v1/items?limit=5&q={S}&page=2"),
        ("URL userinfo", "connecting to postgres://app:{S}@db.example.com:5432/rag"),
        ("header line", "X-Custom-Header: {S}"),
        ("JSON string", #"{"data": {"value": "{S}"}}"#),
        ("escaped JSON", #"{\"value\":\"{S}\"}"#),
        ("bearer", "Authorization: Bearer {S}"),
        ("after a secret key", "OPENAI_API_KEY={S}"),
        ("error description", #"HTTPError(status: 401, body: "invalid key {S}")"#),
    ]

    /// Contexts for a credential caught only by the key that names it (`{K}` the key, `{S}` the secret).
    static let keyedContexts: [(name: String, template: String)] = [
        ("K=S", "{K}={S}"),
        ("K: S", "{K}: {S}"),
        ("export", #"export {K}="{S}""#),
        ("JSON", #"{"{K}": "{S}"}"#),
        ("escaped JSON", #"{\"{K}\":\"{S}\"}"#),
        ("URL query", "https://api.example.com/v1?{K}={S}&x=1"),
        ("connection string", "Server=db.example.com;{K}={S};Database=rag"),
    ]

    /// Every sample in every context it is caught in, plus the schemes, URL passwords and a PEM
    /// key; the attr cases put the credential under an innocent key (or, keyed, under its key).
    public static var cases: [Case] {
        var cases: [Case] = []
        func add(_ name: String, _ text: String, _ secret: String, attrKey: String? = nil) {
            let marker = "case-\(cases.count + 1)"
            let withMarker = attrKey == nil ? "\(marker) \(text)" : text
            cases.append(Case(marker: marker, name: name, text: withMarker, secret: secret, attrKey: attrKey))
        }
        for sample in samples {
            if let key = sample.key {
                for context in keyedContexts {
                    add("\(sample.provider), \(context.name)",
                        context.template.replacing("{K}", with: key).replacing("{S}", with: sample.secret), sample.secret)
                }
                add("\(sample.provider), attr under its key", sample.secret, sample.secret, attrKey: key)
            } else {
                for context in shapeContexts {
                    add("\(sample.provider), \(context.name)", context.template.replacing("{S}", with: sample.secret), sample.secret)
                }
                add("\(sample.provider), attr under an innocent key", sample.secret, sample.secret, attrKey: "note")
            }
        }
        let basic = "dXNlcjpjb3JyZWN0LWhvcnNlLWJhdHRlcnk="
        add("Basic, header line", "Authorization: Basic \(basic)", basic)
        add("Basic, bare", "retrying with Basic \(basic) again", basic)
        add("Basic, JSON", "{\"Authorization\": \"Basic \(basic)\"}", basic)
        let bearer = "opaque-Token.0123456789abcdef"
        add("Bearer, bare", "sent Bearer \(bearer) to the API", bearer)
        add("Bearer, JSON", "{\"headers\": {\"authorization\": \"bearer \(bearer)\"}}", bearer)
        let password = "HUNTER2PW-correct"
        add("URL password, https", "GET https://bob:\(password)@db.example.com/x failed", password)
        add("URL password, postgres", "postgres://rag:\(password)@10.0.0.5:5432/rag", password)
        add("URL password, attr", "redis://default:\(password)@cache:6379/0", password, attrKey: "url")
        add("URL password, JSON", "{\"dsn\": \"mysql://root:\(password)@db/app\"}", password)
        let pem = "MIIEowIBAAKCAQEA" + repeated(alphanumeric + "+/", 64, seed: 30)
        let block = "-----BEGIN RSA PRIVATE KEY-----\n\(pem)\n" + repeated(alphanumeric, 64, seed: 31) + "\n-----END RSA PRIVATE KEY-----"
        add("PEM private key, bare", "key:\n\(block)\nend", pem)
        add("PEM private key, attr", block, pem, attrKey: "note")
        add("PEM private key, OpenSSH", "-----BEGIN OPENSSH PRIVATE KEY-----\n\(pem)\n-----END OPENSSH PRIVATE KEY-----", pem)
        return cases
    }

    /// Ordinary text that must survive unchanged (false positives).
    public static let ordinaryText: [String] = [
        "request 7f9c2a1e-4b3d-4c8e-9f1a-2b3c4d5e6f70 finished",
        "deployed commit 3f786850e387550fdab836ed7e6dc881de23001b to prod",
        "payload aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgc2VjcmV0Cg== decoded",
        "max_tokens=512 temperature=0.2",
        "token_count: 1843 prompt_tokens: 1200",
        "chunk_size=800 chunk_overlap=100 top_k=5",
        "GET https://api.notion.com/v1/databases/8a3f0c2b?page_size=100",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "index docs-prod-2026 has 1234 vectors",
        "skipped task-runner-01 and sk-short",
        "retry_after_ms: 1500, attempt: 3",
    ]
}
