import Hardening

/// Mixes the credentials of ``CredentialSamples`` into random text (words, punctuation, quotes,
/// URLs, JSON, control characters, multi-byte UTF-8) at random places, each standing as it does
/// in real text (after a space, `=`, `:`, a quote, `?q=`, `://user:`, `Bearer `; a keyed one after
/// its key), and checks that the redactor removes every one and does not crash. A credential
/// glued to a preceding word by `.`, `-` or `_` is not a token of its own and is not inserted so.
public struct RedactionFuzzer {
    /// One text in which a credential survived.
    public struct Finding: CustomStringConvertible, Sendable {
        /// The text given to the redactor.
        public var input: String
        /// What it returned.
        public var output: String
        /// The credential that survived.
        public var secret: String
        public var description: String { "\(secret) survived in \(output.debugDescription)" }
    }

    private var random: SplitMix64
    /// How many texts were checked.
    public private(set) var executions = 0
    /// How many credentials were inserted.
    public private(set) var inserted = 0
    private let redactor: Redactor

    /// A fuzzer whose texts follow from `seed`.
    public init(seed: UInt64, redactor: Redactor = Redactor()) {
        random = SplitMix64(seed: seed)
        self.redactor = redactor
    }

    private static let words = ["the", "request", "failed", "retry", "index", "docs", "prod", "42", "ms", "ok", "token_count", "max_tokens",
                                "user", "café", "日本", "naïve", "v1", "api", "GET", "POST", "https://api.example.com/v1/items", "{", "}",
                                "[", "]", "\"", "'", ":", "=", ",", ";", "&", "?", "#", "/", "\\", "\n", "\t", "\u{1}", "\u{7f}", "(", ")", "<",
                                ">", "@", "*", "%20", "key", "value", "true", "null", "1e9", "-", "_", "."]
    private static let before = [" ", "=", ": ", ":", "\"", "'", "?q=", "&x=", "(", "[", "{\"v\":\"", "\n", "Bearer ", "\t", ",", "<", "/"]
    private static let after = [" ", "\"", "'", "&", ";", ",", ")", "]", "}", "\n", "", ".", "\t", "<", "\\\"", "#frag"]

    /// Checks `iterations` texts; returns the ones where a credential survived.
    public mutating func run(iterations: Int) -> [Finding] {
        var findings: [Finding] = []
        let samples = CredentialSamples.samples
        for _ in 0..<iterations {
            executions += 1
            var text = ""
            var secrets: [String] = []
            for _ in 0..<(1 + random.next(upTo: 30)) {
                if random.next(upTo: 4) == 0 {
                    let sample = samples[random.next(upTo: samples.count)]
                    let prefix = Self.before[random.next(upTo: Self.before.count)]
                    let suffix = Self.after[random.next(upTo: Self.after.count)]
                    if let key = sample.key {
                        let forms = [" \(key)=\(sample.secret)\(suffix)", " \(key): \(sample.secret)\(suffix)",
                                     " \"\(key)\": \"\(sample.secret)\"", " \(key)=\"\(sample.secret)\"", "&\(key)=\(sample.secret)&"]
                        text += forms[random.next(upTo: forms.count)]
                    } else if random.next(upTo: 6) == 0 {
                        text += " https://user:" + sample.secret + "@db.example.com/x" + suffix
                    } else {
                        text += prefix + sample.secret + suffix
                    }
                    secrets.append(sample.secret)
                    inserted += 1
                } else {
                    text += Self.words[random.next(upTo: Self.words.count)]
                    if random.next(upTo: 2) == 0 { text += " " }
                }
            }
            let output = redactor.redacted(text) ?? text
            for secret in secrets {
                let characters = Array(secret)
                let parts = characters.count >= 24 ? [secret, String(characters.prefix(12)), String(characters.suffix(12))] : [secret]
                if let part = parts.first(where: { output.contains($0) }) {
                    findings.append(Finding(input: text, output: output, secret: part))
                    break
                }
            }
        }
        return findings
    }
}
