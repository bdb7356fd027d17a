/// Finds credentials in text the way they appear in real logs, in one pass over the bytes:
///
/// - **Shapes**: a token (a run of `[A-Za-z0-9_.-]`, so that `=`, `:`, `/`, `?`, `&`, quotes and
///   spaces end it) that starts like a known credential (``CredentialShape``), wherever it stands:
///   bare, after `KEY=`, in a URL query, in a header line, inside JSON in a string.
/// - **Secret pairs**: `key=value`, `key: value`, `"key": "value"` (also with escaped quotes) whose
///   key names a secret (`password=…`, `client_secret: …`, `DD_API_KEY=…`, `AccountKey=…;`,
///   `X-Api-Key: …`, `Authorization: Basic …`): the value, whatever its shape.
/// - **Schemes**: the token after `Bearer` or `Basic`.
/// - **URL userinfo**: the password of `scheme://user:password@host`.
/// - **PEM private keys**: a `-----BEGIN … PRIVATE KEY-----` block, whole.
///
/// It returns the byte ranges to replace, sorted and disjoint.
struct CredentialScanner {
    /// What replaces a secret (a value that is already this is left alone).
    let replacement: [UInt8]
    /// Whether a key names a secret (the redactor's rule for attr keys).
    let isSecretKey: (UnsafeBufferPointer<UInt8>) -> Bool

    func ranges(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var index = 0
        let count = bytes.count
        var previousWord: Range<Int>? = nil
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "-"), let block = privateKeyBlock(bytes, at: index) {
                found.append(block)
                index = block.upperBound
                previousWord = nil
                continue
            }
            guard Self.isKeyByte(byte) else {
                if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") { previousWord = nil }
                index += 1
                continue
            }
            let start = index
            while index < count, Self.isKeyByte(bytes[index]) { index += 1 }
            var end = index
            while end > start + 1, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
            let token = UnsafeBufferPointer(rebasing: bytes[start..<end])

            // After `Bearer ` / `Basic `: the credential, base64 characters included.
            if let previous = previousWord, Self.isAuthScheme(UnsafeBufferPointer(rebasing: bytes[previous])) {
                var credentialEnd = start
                while credentialEnd < count, Self.isBase64TokenByte(bytes[credentialEnd]) { credentialEnd += 1 }
                if credentialEnd - start >= 8 {
                    found.append(start..<credentialEnd)
                    index = credentialEnd
                    previousWord = nil
                    continue
                }
            }
            if let length = CredentialShape.match(token) {
                found.append(start..<(start + length))
                previousWord = nil
                continue
            }
            // `scheme://user:password@host`
            if index + 2 < count, bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: "/"),
                bytes[index + 2] == UInt8(ascii: "/")
            {
                if let password = userinfoPassword(bytes, authorityStart: index + 3) { found.append(password) }
                index += 3
                previousWord = nil
                continue
            }
            if let value = secretValue(bytes, keyEnd: index, key: token) {
                if !value.isEmpty { found.append(value) }
                // The value is scanned too: it may itself hold `KEY: value` (what looked like a
                // key glued to a word, `max_tokensx: DD_API_KEY: …`) or a second credential.
                index = max(index, value.lowerBound)
                previousWord = nil
                continue
            }
            previousWord = start..<end
        }
        return found
    }

    // MARK: - Secret pairs

    /// The value of `key<sep>value` when `key` names a secret; `nil` if what follows the key is
    /// no separator or the key is not secret.
    private func secretValue(_ bytes: UnsafeBufferPointer<UInt8>, keyEnd: Int, key: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let count = bytes.count
        var index = keyEnd
        // A closing quote of the key, possibly escaped (JSON inside a string).
        if index < count, bytes[index] == UInt8(ascii: "\\") { index += 1 }
        if index < count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") { index += 1 }
        while index < count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        guard index < count, bytes[index] == UInt8(ascii: "=") || bytes[index] == UInt8(ascii: ":") else { return nil }
        let separator = bytes[index]
        index += 1
        if separator == UInt8(ascii: "="), index < count, bytes[index] == UInt8(ascii: "=") { return nil }  // `==`
        guard key.count >= 2, isSecretKey(key) else { return nil }
        while index < count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        var quote: UInt8? = nil
        if index + 1 < count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "\"") {
            quote = UInt8(ascii: "\"")
            index += 2
        } else if index < count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
            quote = bytes[index]
            index += 1
        }
        let start = index
        if quote == nil, index < count, bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "[") {
            return start..<start  // a nested structure: its own pairs are scanned next
        }
        let toEndOfLine = quote == nil && Self.valueRunsToEndOfLine(key)
        while index < count {
            let byte = bytes[index]
            if let quote {
                if byte == quote || byte == UInt8(ascii: "\\") { break }
            } else if toEndOfLine {
                if byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: "\\") { break }
            } else if Self.endsUnquotedValue(byte) {
                break
            }
            index += 1
        }
        var end = index
        if quote == nil, !toEndOfLine { while end > start, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 } }
        while end > start, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
        let value = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if value.elementsEqual(replacement) || value.allSatisfy({ $0 == UInt8(ascii: "*") }) { return start..<start }
        return start..<end
    }

    /// `Authorization: Bearer x`, `Cookie: a=b; c=d`: the whole rest of the line is the secret.
    private static func valueRunsToEndOfLine(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        equalsIgnoringCase(key, "authorization") || equalsIgnoringCase(key, "proxy-authorization")
            || equalsIgnoringCase(key, "cookie") || equalsIgnoringCase(key, "set-cookie")
    }

    private static func endsUnquotedValue(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0A, 0x0D, UInt8(ascii: "&"), UInt8(ascii: ";"), UInt8(ascii: ","),
            UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ")"), UInt8(ascii: "}"),
            UInt8(ascii: "]"), UInt8(ascii: "\\"), UInt8(ascii: "#"):
            return true
        default:
            return false
        }
    }

    // MARK: - URLs and PEM blocks

    /// In `scheme://user:password@host/…`, the password's range.
    private func userinfoPassword(_ bytes: UnsafeBufferPointer<UInt8>, authorityStart: Int) -> Range<Int>? {
        var index = authorityStart
        var at: Int? = nil
        var colon: Int? = nil
        while index < bytes.count {
            let byte = bytes[index]
            // A `?` or `#` ends the authority, unless it stands in a password (after the colon):
            // a parser splits `user:pa#ss@host` there, the password's owner did not.
            if (byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")) && colon == nil { break }
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: " ")
                || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
                || byte == UInt8(ascii: "\\") || byte < 0x20
            {
                break
            }
            if byte == UInt8(ascii: "@") { at = index }
            if byte == UInt8(ascii: ":"), colon == nil, at == nil { colon = index }
            index += 1
        }
        guard let at, let colon, colon < at, colon + 1 < at else { return nil }
        let password = UnsafeBufferPointer(rebasing: bytes[(colon + 1)..<at])
        if password.elementsEqual(replacement) || password.allSatisfy({ $0 == UInt8(ascii: "*") }) { return nil }
        return (colon + 1)..<at
    }

    /// `-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----` (to the end of the text if
    /// the end marker is missing).
    private func privateKeyBlock(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard Self.hasPrefix(bytes, at: start, "-----BEGIN ") else { return nil }
        var index = start + 11
        var lineEnd = index
        while lineEnd < bytes.count, bytes[lineEnd] != 0x0A, lineEnd - start < 80 { lineEnd += 1 }
        var isPrivate = false
        while index + 16 <= lineEnd {
            if Self.hasPrefix(bytes, at: index, "PRIVATE KEY-----") {
                isPrivate = true
                break
            }
            index += 1
        }
        guard isPrivate else { return nil }
        var search = index + 16
        while search + 9 <= bytes.count {
            if Self.hasPrefix(bytes, at: search, "-----END ") {
                var end = search + 9
                while end + 5 <= bytes.count, !Self.hasPrefix(bytes, at: end, "-----") { end += 1 }
                return start..<min(bytes.count, end + 5)
            }
            search += 1
        }
        return start..<bytes.count
    }

    // MARK: - Bytes

    @inline(__always)
    static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    @inline(__always)
    private static func isBase64TokenByte(_ byte: UInt8) -> Bool {
        isKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "~")
    }

    private static func isAuthScheme(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        equalsIgnoringCase(word, "bearer") || equalsIgnoringCase(word, "basic")
    }

    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        for offset in 0..<bytes.count where lower(bytes[offset]) != word.utf8Start[offset] { return false }
        return true
    }

    private static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ prefix: StaticString) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard start + length <= bytes.count else { return false }
        for offset in 0..<length where bytes[start + offset] != prefix.utf8Start[offset] { return false }
        return true
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte | 0x20 : byte
    }
}
