// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a `server.host` value can be bound: an IPv4 or IPv6 address, or a host name of
/// RFC 1123 labels (letters, digits and inner hyphens, 1 to 63 characters each, 253 in all).
/// Checked when the configuration is read, so a typo is reported with its line instead of
/// failing at bind time.
enum HostSyntax {
    static func isValid(_ host: String) -> Bool {
        if isIPAddress(host) { return true }
        let bytes = Array(host.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            for byte in label {
                let isLetter = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                guard isLetter || isDigit || byte == UInt8(ascii: "-") else { return false }
            }
        }
        // All digits and dots is a malformed IPv4 address, not a name.
        return !bytes.allSatisfy { $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
#endif
