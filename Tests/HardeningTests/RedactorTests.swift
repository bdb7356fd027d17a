import Hardening
import Testing

@Suite struct RedactorTests {
    let redactor = Redactor()

    @Test(arguments: [
        "calling OpenAI with sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "Authorization: Bearer abcdef0123456789abcdef",
        "notion token secret_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 failed",
        "pinecone pcsk_2Ab3Cd4Ef5Gh6Ij7Kl8Mn9 key",
        "aws AKIAIOSFODNN7EXAMPLE in url",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
    ])
    func redactsCredentialShapedTokens(text: String) throws {
        let redacted = try #require(redactor.redacted(text))
        #expect(redacted.contains("[REDACTED]"))
        for word in text.split(separator: " ") where word.count >= 16 {
            #expect(!redacted.contains(word), "\(word) leaked")
        }
    }

    /// A password with a `#` or `?` in a URL's user info is the password, whole; the status word
    /// of our own configuration messages is not a value.
    @Test func urlPasswordsWithDelimitersAndStatusWords() throws {
        for (text, password) in [("GET http://bob:pa#ss9word@db.example.com/x failed", "pa#ss9word"),
                                 ("GET https://bob:pass?9word@db.example.com/x failed", "pass?9word")] {
            let redacted = try #require(redactor.redacted(text))
            #expect(redacted == text.replacing(password, with: "[REDACTED]"), "\(redacted)")
        }
        #expect(redactor.redacted("http://db.example.com/x?q=1#top") == nil)
        let checked = ConfigChecked(key: "OPENAI_API_KEY", source: "environment", status: "ok", detail: "set")
        #expect(redactor.redacted(checked.message) == nil, "\(checked.message)")
    }

    /// Secret names in every case style: camelCase and PascalCase (JSON, Azure connection
    /// strings), snake_case, kebab-case; counts and ids stay.
    @Test func secretNamesInEveryCaseStyle() throws {
        for key in ["apiKey", "ApiKey", "API-KEY", "clientSecret", "AccountKey", "SharedAccessKey", "connectionString",
                    "authToken", "SessionToken", "privateKey", "MasterKey", "PrimaryKey", "db.password"] {
            #expect(redactor.isSecretKey(key), "\(key)")
        }
        for key in ["maxTokens", "tokenCount", "AccountName", "requestId", "operation", "keyspace"] {
            #expect(!redactor.isSecretKey(key), "\(key)")
        }
        let azure = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4MTIz;EndpointSuffix=core.windows.net"
        #expect(redactor.redacted(azure) == "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED];EndpointSuffix=core.windows.net")
        let bus = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=c2VjcmV0dmFsdWU="
        #expect(try #require(redactor.redacted(bus)).hasSuffix("SharedAccessKey=[REDACTED]"))
        let json = #"{"apiKey":"a1b2c3d4e5f6","clientSecret":"s3cr3tvalue","maxTokens":128}"#
        #expect(redactor.redacted(json) == #"{"apiKey":"[REDACTED]","clientSecret":"[REDACTED]","maxTokens":128}"#)
    }

    @Test func leavesOrdinaryTextAlone() {
        #expect(redactor.redacted("upserted 128 vectors into index docs-prod in 42 ms") == nil)
        #expect(redactor.redacted("skip-list task-runner") == nil)
    }

    @Test func redactsSecretKeysInNestedAttrs() {
        var event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 0), level: .info, kind: .errorRecorded,
                          message: "failed with key sk-abcdefghijklmnopqrstuvwx",
                          attrs: ["operation": "openai.chat", "context": ["api_key": "plain-value-123", "max_tokens": 512,
                                                                          "headers": ["Authorization": "Basic dXNlcjpwYXNz"]]])
        redactor.redact(&event)
        #expect(!event.message.contains("sk-abc"))
        let context = event.attrs["context"]?.objectValue
        #expect(context?["api_key"] == .string("[REDACTED]"))
        #expect(context?["max_tokens"] == .int(512))
        #expect(context?["headers"]?.objectValue?["Authorization"] == .string("[REDACTED]"))
        #expect(event.attrs["operation"] == .string("openai.chat"))
    }

    @Test func userMarkedKeys() {
        let custom = Redactor(secretKeys: ["zotero_user"])
        let attrs: Attributes = ["zotero_user": "12345", "user": "12345"]
        let redacted = custom.redacted(attrs)
        #expect(redacted?["zotero_user"] == .string("[REDACTED]"))
        #expect(redacted?["user"] == .string("12345"))
    }
}
