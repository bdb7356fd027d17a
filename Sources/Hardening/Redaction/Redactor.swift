/// Removes secrets from events before they are encoded (docs/design.md: secrets never reach an event).
///
/// The rules, in order:
/// 1. Values the application knows to be secret (the API keys its configuration resolved) are
///    replaced wherever they appear, whatever their shape, raw and in their escaped forms (JSON,
///    Swift string escapes, percent-encoding).
/// 2. The value of any attr whose key names a secret (`api_key`, `authorization`, `password`,
///    `client_secret`, `access_key`, …, or a key the user marks) is replaced whole.
/// 3. In every string, what a ``CredentialScanner`` finds: credential-shaped tokens
///    (``CredentialShape``: OpenAI, Anthropic, AWS, GitHub, GitLab, Slack, Stripe, Google,
///    Hugging Face, npm, SendGrid, Twilio, Notion, Pinecone, JWTs) bare or after `=`, `:`, quotes,
///    in URL queries and headers; the value of `key=value` and `key: value` pairs whose key names a
///    secret (`password=…`, `DD_API_KEY=…`, `AccountKey=…;`); the token after `Bearer`/`Basic`;
///    URL userinfo passwords (`postgres://u:p@h`); PEM private key blocks.
///
/// Each is replaced by ``replacement``.
public struct Redactor: Sendable {
    /// What a secret is replaced with.
    public var replacement: String
    /// Lowercased key fragments that mark an attr's value as secret.
    public let secretKeyFragments: [String]
    /// Exact keys (lowercased) the user marked secret.
    public let secretKeys: Set<String>
    /// The credential shapes recognised by themselves: each provider's token prefix and the
    /// shortest token that counts.
    public var credentialPrefixes: [(prefix: String, minimumLength: Int, provider: String)] {
        CredentialShape.all.map { ("\($0.prefix)", $0.minimumLength, $0.provider) }
    }
    /// Literal secret values (at least 4 bytes long), replaced wherever they appear in a string.
    public let knownSecrets: [String]
    private let knownSecretBytes: [[UInt8]]
    private let fragmentBytes: [[UInt8]]
    private let replacementBytes: [UInt8]
    private let secretKeyBytes: [[UInt8]]

    /// The default rules.
    public init(
        replacement: String = "[REDACTED]",
        secretKeys: Set<String> = [],
        knownSecrets: [String] = [],
        secretKeyFragments: [String] = [
            "api_key", "apikey", "api-key", "app_key", "appkey", "application_key", "access_key", "accesskey",
            "secret", "password", "passwd", "passphrase", "token", "authorization", "credential", "private_key",
            "privatekey", "cookie", "account_key", "master_key", "primary_key", "secondary_key", "signing_key",
            "encryption_key", "session_key", "connection_string",
        ],
        exactSecretKeys: Set<String> = ["pwd", "pass", "sig", "auth"]
    ) {
        self.replacement = replacement
        self.secretKeys = Set(secretKeys.map { $0.lowercased() }).union(exactSecretKeys)
        self.secretKeyFragments = secretKeyFragments
        // Longest first, so that a secret containing another is replaced whole; each also in the
        // forms it takes inside error texts and encoded text.
        let forms = knownSecrets.filter { $0.utf8.count >= 4 }.flatMap(Redactor.escapedForms)
        self.knownSecrets = Array(Set(forms)).sorted { $0.utf8.count > $1.utf8.count }
        self.knownSecretBytes = self.knownSecrets.map { Array($0.utf8) }
        // Compared without case or separators: `api_key`, `apiKey`, `ApiKey`, `API-KEY` are one name.
        self.fragmentBytes = Array(Set(secretKeyFragments.map { Array($0.lowercased().utf8).filter { !Redactor.isSeparator($0) } }))
        self.replacementBytes = Array(replacement.utf8)
        self.secretKeyBytes = self.secretKeys.map { Array($0.utf8) }
    }

    /// Whether an attr with this key holds a secret (ASCII case-insensitive, no allocation).
    public func isSecretKey(_ key: String) -> Bool {
        var copy = key
        return copy.withUTF8 { isSecretKey($0) }
    }

    func isSecretKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Exact keys, compared without building a string (the scanner asks for every `key=`).
        for key in secretKeyBytes where key.count == bytes.count {
            if zip(key, bytes).allSatisfy({ $0 == Redactor.lower($1) }) { return true }
        }
        // The name without case or separators (camelCase, PascalCase, snake_case, kebab-case, as
        // connection strings and JSON write them), on the stack for the names keys have.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: min(bytes.count, 256)) { buffer in
            var count = 0
            for byte in bytes.prefix(256) where !Redactor.isSeparator(byte) {
                buffer[count] = Redactor.lower(byte)
                count += 1
            }
            let name = UnsafeBufferPointer(rebasing: buffer[..<count])
            // `tokens`/`maxTokens`/`token_count` are counts, and `…_id` names, not credentials.
            if Redactor.hasSuffix(name, "tokens") || Redactor.hasSuffix(name, "count") || Redactor.hasSuffix(name, "id")
                && !Redactor.contains(name, Array("secret".utf8)) && !Redactor.contains(name, Array("key".utf8)) {
                return false
            }
            for fragment in fragmentBytes where Redactor.contains(name, fragment) { return true }
            return false
        }
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: " ")
    }

    /// `value` raw, JSON-escaped, with Swift's string escapes (as error descriptions print a
    /// value with control characters) and percent-encoded.
    static func escapedForms(_ value: String) -> [String] {
        var forms = [value]
        var json = ""
        var swift = ""
        var percent = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": json += "\\\\"; swift += "\\\\"
            case "\"": json += "\\\""; swift += "\\\""
            case "\n": json += "\\n"; swift += "\\n"
            case "\r": json += "\\r"; swift += "\\r"
            case "\t": json += "\\t"; swift += "\\t"
            case "\0": json += "\\u0000"; swift += "\\0"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    swift += "\\u{" + hex + "}"
                } else {
                    json.unicodeScalars.append(scalar)
                    swift.unicodeScalars.append(scalar)
                }
            }
            if scalar.isASCII, CredentialScanner.isKeyByte(UInt8(scalar.value)) || scalar == "~" {
                percent.unicodeScalars.append(scalar)
            } else {
                for byte in String(scalar).utf8 {
                    let hex = String(byte, radix: 16, uppercase: true)
                    percent += "%" + (hex.count == 1 ? "0" + hex : hex)
                }
            }
        }
        for form in [json, swift, percent] where !forms.contains(form) { forms.append(form) }
        return forms
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte | 0x20 : byte
    }

    private static func hasSuffix(_ bytes: UnsafeBufferPointer<UInt8>, _ suffix: StaticString) -> Bool {
        let count = suffix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let start = bytes.count - count
        for offset in 0..<count where lower(bytes[start + offset]) != suffix.utf8Start[offset] { return false }
        return true
    }

    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ fragment: [UInt8]) -> Bool {
        guard let first = fragment.first, bytes.count >= fragment.count else { return false }
        var index = 0
        let last = bytes.count - fragment.count
        while index <= last {
            if lower(bytes[index]) == first {
                var offset = 1
                while offset < fragment.count, lower(bytes[index + offset]) == fragment[offset] { offset += 1 }
                if offset == fragment.count { return true }
            }
            index += 1
        }
        return false
    }

    /// Remembers which attr keys are secret, so that the keys every event repeats are checked
    /// once. Owned by one thread (the bus's drain); bounded.
    public struct Cache {
        var secretKeys: [String: Bool] = [:]

        /// Creates an empty cache.
        public init() {}
    }

    /// Redacts an event's message and attrs (and unknown envelope fields) in place.
    public func redact(_ event: inout Event) {
        var cache = Cache()
        redact(&event, cache: &cache)
    }

    /// Redacts an event in place, reusing what `cache` knows of its keys.
    public func redact(_ event: inout Event, cache: inout Cache) {
        if let message = redacted(event.message) { event.message = message }
        if !event.attrs.isEmpty, let attrs = redacted(event.attrs, cache: &cache) { event.attrs = attrs }
        if !event.extra.isEmpty, let extra = redacted(event.extra, cache: &cache) { event.extra = extra }
    }

    private func isSecretKey(_ key: String, cache: inout Cache) -> Bool {
        if let known = cache.secretKeys[key] { return known }
        let secret = isSecretKey(key)
        if cache.secretKeys.count >= 4096 { cache.secretKeys.removeAll(keepingCapacity: true) }
        cache.secretKeys[key] = secret
        return secret
    }

    /// The attrs with secrets removed, or `nil` when nothing changed.
    public func redacted(_ attributes: Attributes) -> Attributes? {
        var cache = Cache()
        return redacted(attributes, cache: &cache)
    }

    private func redacted(_ attributes: Attributes, cache: inout Cache) -> Attributes? {
        var result: [(key: String, value: AttributeValue)]? = nil
        for index in attributes.pairs.indices {
            let replaced: AttributeValue?
            let value = attributes.pairs[index].value
            if isSecretKey(attributes.pairs[index].key, cache: &cache) {
                replaced = value == .null || value == .string(replacement) ? nil : .string(replacement)
            } else {
                replaced = redacted(value, cache: &cache)
            }
            if let replaced {
                if result == nil { result = attributes.pairs }
                result![index].value = replaced
            }
        }
        return result.map { Attributes(uniqueKeysWithValues: $0) }
    }

    /// The value with secrets removed, or `nil` when nothing changed.
    public func redacted(_ value: AttributeValue) -> AttributeValue? {
        var cache = Cache()
        return redacted(value, cache: &cache)
    }

    private func redacted(_ value: AttributeValue, cache: inout Cache) -> AttributeValue? {
        switch value {
        case .string(let string): return redacted(string).map(AttributeValue.string)
        case .object(let object): return redacted(object, cache: &cache).map(AttributeValue.object)
        case .array(let array):
            var copy: [AttributeValue]? = nil
            for (index, element) in array.enumerated() {
                if let replaced = redacted(element, cache: &cache) {
                    if copy == nil { copy = array }
                    copy![index] = replaced
                }
            }
            return copy.map(AttributeValue.array)
        default: return nil
        }
    }

    /// The string with known secrets and credential-shaped tokens replaced, or `nil` when it has none.
    public func redacted(_ string: String) -> String? {
        guard !knownSecretBytes.isEmpty, let withoutKnown = replacingKnownSecrets(in: string) else {
            return redactedTokens(string)
        }
        return redactedTokens(withoutKnown) ?? withoutKnown
    }

    private func replacingKnownSecrets(in string: String) -> String? {
        var bytes = Array(string.utf8)
        var changed = false
        let replacementBytes = Array(replacement.utf8)
        for secret in knownSecretBytes where bytes.count >= secret.count {
            var output: [UInt8] = []
            var index = 0
            var copiedUpTo = 0
            while index + secret.count <= bytes.count {
                if bytes[index] == secret[0], bytes[index..<index + secret.count].elementsEqual(secret) {
                    output.append(contentsOf: bytes[copiedUpTo..<index])
                    output.append(contentsOf: replacementBytes)
                    index += secret.count
                    copiedUpTo = index
                } else {
                    index += 1
                }
            }
            guard copiedUpTo > 0 else { continue }
            output.append(contentsOf: bytes[copiedUpTo...])
            bytes = output
            changed = true
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : nil
    }

    private func redactedTokens(_ string: String) -> String? {
        var copy = string
        return copy.withUTF8 { bytes -> String? in
            guard bytes.count >= 8 else { return nil }
            let found = CredentialScanner(replacement: replacementBytes, isSecretKey: isSecretKey).ranges(in: bytes)
            guard !found.isEmpty else { return nil }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            var copiedUpTo = 0
            for range in found.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                guard range.upperBound > copiedUpTo else { continue }  // inside one already replaced
                let start = max(range.lowerBound, copiedUpTo)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copiedUpTo..<start]))
                output.append(contentsOf: replacementBytes)
                copiedUpTo = range.upperBound
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copiedUpTo...]))
            return String(decoding: output, as: UTF8.self)
        }
    }
}
