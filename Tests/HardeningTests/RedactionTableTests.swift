import Hardening
import HardeningTestKit
import HardeningTestSupport
import Testing

/// Every credential shape in every context it appears in (`CredentialSamples`): redacted, with
/// the text around it kept; ordinary text untouched.
@Suite struct RedactionTableTests {
    let redactor = Redactor()

    @Test(arguments: CredentialSamples.cases.map { $0 })
    func theCredentialIsGoneAndTheRestStays(_ sample: CredentialSamples.Case) {
        var event = Event(timestamp: Timestamp(microsecondsSinceEpoch: 0), level: .info, kind: .logMessage, message: "",
                          attrs: [:])
        if let key = sample.attrKey {
            event.message = "\(sample.marker) attr"
            event.attrs = [key: .string(sample.text), "marker": .string(sample.marker)]
        } else {
            event.message = sample.text
        }
        redactor.redact(&event)
        let everything = event.message + " " + event.attrs.pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        for part in sample.forbiddenParts {
            #expect(!everything.contains(part), "\(sample.name): \(part) survived in \(everything)")
        }
        #expect(everything.contains(sample.marker), "\(sample.name): the marker is gone: \(everything)")
        #expect(everything.contains("[REDACTED]"), "\(sample.name)")
    }

    @Test(arguments: CredentialSamples.ordinaryText)
    func ordinaryTextSurvives(_ text: String) {
        #expect(redactor.redacted(text) == nil, "\(text) -> \(redactor.redacted(text) ?? "")")
        #expect(redactor.redacted(["note": .string(text), "max_tokens": .int(512), "token_count": .int(9)] as Attributes) == nil)
    }

    @Test func everyShapeTheDocsNameIsInTheTable() {
        let providers = Set(CredentialSamples.samples.map(\.provider))
        for name in ["OpenAI", "Anthropic", "AWS access key id", "AWS secret access key", "GitHub classic", "GitHub fine-grained", "GitLab",
                     "Slack", "Stripe", "Google API key", "Hugging Face", "npm", "SendGrid", "Twilio API key", "Datadog API key",
                     "Datadog application key", "Notion", "Pinecone", "Zotero", "JWT"] {
            #expect(providers.contains(name), "\(name) has no sample")
        }
        #expect(redactor.credentialPrefixes.count >= 30)
    }

    @Test func knownSecretsAreReplacedInTheirEscapedForms() {
        let secret = "abc\r\ndef\u{0}ghi-TOKEN"
        let known = Redactor(knownSecrets: [secret])
        for text in ["header \(secret)", #"invalid header value "abc\r\ndef\0ghi-TOKEN""#, #"{"v":"abc\r\ndef\u0000ghi-TOKEN"}"#,
                     "https://h/x?v=abc%0D%0Adef%00ghi-TOKEN"] {
            let redacted = known.redacted(text) ?? text
            #expect(!redacted.contains("ghi-TOKEN"), "\(text) -> \(redacted)")
        }
    }
}

/// The short version of `hardening-fuzz redaction` (tools/fuzz): credentials mixed into random text.
@Suite struct RedactionFuzzTests {
    @Test func noCredentialSurvivesRandomText() {
        var fuzzer = RedactionFuzzer(seed: 20_261_201)
        let findings = fuzzer.run(iterations: 3000)
        #expect(findings.isEmpty, "\(findings.prefix(3))")
        #expect(fuzzer.inserted > 5000)
    }
}
