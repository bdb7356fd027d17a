/// Makes the random per-process `run` id: 16 lowercase hex digits.
public enum RunID {
    /// A new random run id.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next() as UInt64)
    }

    /// 16 lowercase hex digits of `value`.
    public static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0, count: 16)
        var remaining = value
        for index in stride(from: 15, through: 0, by: -1) {
            bytes[index] = digits[Int(remaining & 0xF)]
            remaining >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
