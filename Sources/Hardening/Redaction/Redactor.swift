/// Removes secrets from events before they are encoded (docs/design.md: secrets never reach an event).
///
/// Two rules: the value of any attr whose key names a secret (`api_key`, `authorization`,
/// `password`, …, or a key the user marks) is replaced whole; and any token in any string that is
/// shaped like a credential (an OpenAI `sk-…` key, a Notion `secret_…`/`ntn_…` token, a Pinecone
/// `pcsk_…` key, a GitHub `ghp_…` token, an AWS `AKIA…` id, a Slack `xox…` token, a JWT, or the
/// word after `Bearer`/`Basic`) is replaced by ``replacement``. Values the application knows to be
/// secret (the API keys its configuration resolved) are replaced wherever they appear, whatever
/// their shape.
public struct Redactor: Sendable {
    /// What a secret is replaced with.
    public var replacement: String
    /// Lowercased key fragments that mark an attr's value as secret.
    public let secretKeyFragments: [String]
    /// Exact keys (lowercased) the user marked secret.
    public let secretKeys: Set<String>
    /// Token prefixes that mark a credential, with the minimum token length.
    public let credentialPrefixes: [(prefix: String, minimumLength: Int)]
    /// Literal secret values (at least 4 bytes long), replaced wherever they appear in a string.
    public let knownSecrets: [String]
    private let knownSecretBytes: [[UInt8]]
    private let fragmentBytes: [[UInt8]]
    private let prefixBytes: [(prefix: [UInt8], minimumLength: Int)]

    /// The default rules.
    public init(
        replacement: String = "[REDACTED]",
        secretKeys: Set<String> = [],
        knownSecrets: [String] = [],
        secretKeyFragments: [String] = [
            "api_key", "apikey", "api-key", "secret", "password", "passwd", "token", "authorization",
            "credential", "private_key", "cookie",
        ]
    ) {
        self.replacement = replacement
        self.secretKeys = Set(secretKeys.map { $0.lowercased() })
        self.secretKeyFragments = secretKeyFragments
        self.credentialPrefixes = [
            ("sk-", 20), ("secret_", 20), ("ntn_", 20), ("pcsk_", 20), ("ghp_", 20), ("gho_", 20),
            ("github_pat_", 20), ("xoxb-", 15), ("xoxp-", 15), ("xoxa-", 15), ("AKIA", 20), ("eyJ", 30),
        ]
        // Longest first, so that a secret containing another is replaced whole.
        self.knownSecrets = Array(Set(knownSecrets.filter { $0.utf8.count >= 4 })).sorted { $0.utf8.count > $1.utf8.count }
        self.knownSecretBytes = self.knownSecrets.map { Array($0.utf8) }
        self.fragmentBytes = secretKeyFragments.map { Array($0.lowercased().utf8) }
        self.prefixBytes = credentialPrefixes.map { (Array($0.prefix.utf8), $0.minimumLength) }
    }

    /// Whether an attr with this key holds a secret (ASCII case-insensitive, no allocation).
    public func isSecretKey(_ key: String) -> Bool {
        if !secretKeys.isEmpty, secretKeys.contains(key.lowercased()) { return true }
        var copy = key
        return copy.withUTF8 { bytes in
            // `tokens`/`max_tokens`/`token_count` are counts, not credentials.
            if Redactor.hasSuffix(bytes, "tokens") || Redactor.hasSuffix(bytes, "_count") { return false }
            for fragment in fragmentBytes where Redactor.contains(bytes, fragment) { return true }
            return false
        }
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
            var output: [UInt8] = []
            var copiedUpTo = 0
            var index = 0
            var previousStart = 0
            var previousEnd = 0
            while index < bytes.count {
                guard Redactor.isTokenByte(bytes[index]) else {
                    index += 1
                    continue
                }
                let start = index
                while index < bytes.count, Redactor.isTokenByte(bytes[index]) { index += 1 }
                let token = UnsafeBufferPointer(rebasing: bytes[start..<index])
                let previous = UnsafeBufferPointer(rebasing: bytes[previousStart..<previousEnd])
                if token.count >= 8, isCredential(token, after: previous) {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copiedUpTo..<start]))
                    output.append(contentsOf: replacement.utf8)
                    copiedUpTo = index
                }
                previousStart = start
                previousEnd = index
            }
            guard copiedUpTo > 0 else { return nil }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copiedUpTo...]))
            return String(decoding: output, as: UTF8.self)
        }
    }

    private func isCredential(_ token: UnsafeBufferPointer<UInt8>, after previous: UnsafeBufferPointer<UInt8>) -> Bool {
        if previous.elementsEqual("Bearer".utf8) || previous.elementsEqual("bearer".utf8) || previous.elementsEqual("Basic".utf8) {
            return true
        }
        for (prefix, minimumLength) in prefixBytes where token.count >= minimumLength && token.count >= prefix.count {
            if token.starts(with: prefix) { return true }
        }
        return false
    }

    @inline(__always)
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
