/// The credential shapes the redactor recognises by themselves, wherever they stand: the services
/// a RAG system runs next to (modelled on the kinds of rules secret scanners such as gitleaks
/// keep; written here from the providers' documented formats). Credentials without a shape of
/// their own (Datadog's 32- and 40-hex keys, AWS secret access keys, Twilio auth tokens, Zotero
/// keys, passwords) are caught by the key that names them (`DD_API_KEY=…`, `"aws_secret_access_key": …`).
struct CredentialShape: Sendable {
    /// What the token must start with.
    let prefix: StaticString
    /// The shortest whole token that counts.
    let minimumLength: Int
    /// Bytes allowed after the prefix (`nil`: any token byte).
    let body: (@Sendable (UInt8) -> Bool)?
    /// The provider, for the documentation and the tests.
    let provider: String

    init(_ prefix: StaticString, _ minimumLength: Int, _ provider: String, body: (@Sendable (UInt8) -> Bool)? = nil) {
        self.prefix = prefix
        self.minimumLength = minimumLength
        self.provider = provider
        self.body = body
    }

    /// Every shape, grouped by first byte for the scan.
    static let all: [CredentialShape] = [
        CredentialShape("sk-ant-", 30, "Anthropic"),
        CredentialShape("sk-proj-", 30, "OpenAI project key"),
        CredentialShape("sk-", 20, "OpenAI"),
        CredentialShape("sk_live_", 20, "Stripe secret key"),
        CredentialShape("sk_test_", 20, "Stripe test secret key"),
        CredentialShape("rk_live_", 20, "Stripe restricted key"),
        CredentialShape("rk_test_", 20, "Stripe restricted test key"),
        CredentialShape("whsec_", 20, "Stripe webhook secret"),
        CredentialShape("AKIA", 20, "AWS access key id", body: isUpperAlphanumeric),
        CredentialShape("ASIA", 20, "AWS temporary access key id", body: isUpperAlphanumeric),
        CredentialShape("ABIA", 20, "AWS STS service bearer token id", body: isUpperAlphanumeric),
        CredentialShape("ACCA", 20, "AWS context-specific credential id", body: isUpperAlphanumeric),
        CredentialShape("ghp_", 30, "GitHub personal access token (classic)"),
        CredentialShape("gho_", 30, "GitHub OAuth token"),
        CredentialShape("ghu_", 30, "GitHub user-to-server token"),
        CredentialShape("ghs_", 30, "GitHub server-to-server token"),
        CredentialShape("ghr_", 30, "GitHub refresh token"),
        CredentialShape("github_pat_", 30, "GitHub fine-grained personal access token"),
        CredentialShape("glpat-", 20, "GitLab personal access token"),
        CredentialShape("gldt-", 20, "GitLab deploy token"),
        CredentialShape("glrt-", 20, "GitLab runner token"),
        CredentialShape("glptt-", 20, "GitLab pipeline trigger token"),
        CredentialShape("gloas-", 20, "GitLab OAuth application secret"),
        CredentialShape("xoxb-", 15, "Slack bot token"),
        CredentialShape("xoxp-", 15, "Slack user token"),
        CredentialShape("xoxa-", 15, "Slack app token"),
        CredentialShape("xoxr-", 15, "Slack refresh token"),
        CredentialShape("xoxs-", 15, "Slack session token"),
        CredentialShape("xoxe-", 15, "Slack rotating token"),
        CredentialShape("xapp-", 15, "Slack app-level token"),
        CredentialShape("AIza", 39, "Google API key"),
        CredentialShape("GOCSPX-", 20, "Google OAuth client secret"),
        CredentialShape("ya29.", 20, "Google OAuth access token"),
        CredentialShape("hf_", 30, "Hugging Face token", body: isAlphanumeric),
        CredentialShape("npm_", 36, "npm access token", body: isAlphanumeric),
        CredentialShape("SG.", 40, "SendGrid API key"),
        CredentialShape("SK", 34, "Twilio API key", body: isHex),
        CredentialShape("secret_", 20, "Notion integration token (legacy)"),
        CredentialShape("ntn_", 20, "Notion integration token"),
        CredentialShape("pcsk_", 20, "Pinecone API key"),
        CredentialShape("dapi", 36, "Databricks token", body: isHex),
        CredentialShape("eyJ", 30, "JSON Web Token"),
    ]

    /// How much of `token` (from its start) is a credential of one of the shapes: the whole token,
    /// or for a shape with a restricted body (AWS, Hugging Face, npm, Twilio) the run of bytes
    /// it allows (so `AKIA….café` keeps `.café`); `nil` if none matches.
    static func match(_ token: UnsafeBufferPointer<UInt8>) -> Int? {
        guard token.count >= 15, let first = token.first else { return nil }
        var best: Int? = nil
        for shape in byFirstByte[Int(first)] where token.count >= shape.minimumLength {
            if let length = shape.match(token), length >= shape.minimumLength { best = max(best ?? 0, length) }
        }
        return best
    }

    private func match(_ token: UnsafeBufferPointer<UInt8>) -> Int? {
        let length = prefix.utf8CodeUnitCount
        for offset in 0..<length where token[offset] != prefix.utf8Start[offset] { return nil }
        guard let body else { return token.count }
        var end = length
        while end < token.count, body(token[end]) { end += 1 }
        return end
    }

    private static let byFirstByte: [[CredentialShape]] = {
        var table = [[CredentialShape]](repeating: [], count: 256)
        for shape in all { table[Int(shape.prefix.utf8Start[0])].append(shape) }
        return table
    }()

    private static func isUpperAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isUpperAlphanumeric(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
