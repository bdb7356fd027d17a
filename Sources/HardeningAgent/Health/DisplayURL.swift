// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
/// A URL as it may appear in a report, an event or an HTTP response: without user info (a
/// password in `https://user:pass@host`), query string (an `?api_key=`) or fragment.
package enum DisplayURL {
    /// `url` without its user info, query and fragment. The user info ends at the last `@`
    /// before the path, even when the password holds a `?` or a `#` (which a URL parser takes for
    /// the start of the query or the fragment, leaving the first part of the password behind).
    package static func sanitized(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return String(withoutQuery(Substring(url))) }
        let authorityStart = scheme.upperBound
        var rest = url[authorityStart...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return String(url[..<authorityStart]) + String(withoutQuery(rest))
    }

    private static func withoutQuery(_ text: Substring) -> Substring {
        text.firstIndex(where: { $0 == "?" || $0 == "#" }).map { text[..<$0] } ?? text
    }

    /// `url` with the characters of its user info that a URL parser would take for a delimiter
    /// (`?`, `#`, a second `@`, a space) percent-encoded, so that the request goes to the host the
    /// user meant and the password stays in one piece.
    package static func encodingUserInfo(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        var userInfo = ""
        for character in rest[..<at] {
            switch character {
            case "?": userInfo += "%3F"
            case "#": userInfo += "%23"
            case "@": userInfo += "%40"
            case " ": userInfo += "%20"
            default: userInfo.append(character)
            }
        }
        return String(url[..<scheme.upperBound]) + userInfo + String(rest[at...])
    }
}
#endif
