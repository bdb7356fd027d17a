/// A URL as it may appear in a report, an event or an HTTP response: without user info (a
/// password in `https://user:pass@host`), query string (an `?api_key=`) or fragment.
package enum DisplayURL {
    /// `url` without its user info, query and fragment.
    package static func sanitized(_ url: String) -> String {
        var text = Substring(url)
        if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
        guard let scheme = text.firstRange(of: "://") else { return String(text) }
        let authorityStart = scheme.upperBound
        let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
        if let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") {
            return String(text[..<authorityStart]) + String(text[text.index(after: at)...])
        }
        return String(text)
    }
}
