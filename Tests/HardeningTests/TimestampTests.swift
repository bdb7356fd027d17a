import Hardening
import Testing

@Suite struct TimestampTests {
    @Test func formatsRFC3339WithMicroseconds() {
        let timestamp = Timestamp(rfc3339: "2026-11-29T00:07:26.123456Z")!
        #expect(timestamp.description == "2026-11-29T00:07:26.123456Z")
        #expect(Timestamp(microsecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp(microsecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999999Z")
        #expect(timestamp.compactDescription == "20261129T000726Z")
    }

    @Test(arguments: [
        ("2026-11-29T01:07:26.5+01:00", "2026-11-29T00:07:26.500000Z"),
        ("2026-11-29 00:07:26Z", "2026-11-29T00:07:26.000000Z"),
        ("2024-02-29T23:59:59.9999999-00:30", "2024-03-01T00:29:59.999999Z"),
        ("2000-03-01T00:00:00Z", "2000-03-01T00:00:00.000000Z"),
    ])
    func parsesOffsetsAndFractions(input: String, expected: String) {
        #expect(Timestamp(rfc3339: input)?.description == expected)
    }

    @Test(arguments: ["", "2026-13-01T00:00:00Z", "2026-11-29T00:07:26", "2026-11-29T00:07:26.Z", "garbage", "2026-11-29T24:00:00Z"])
    func rejectsInvalid(input: String) {
        #expect(Timestamp(rfc3339: input) == nil)
    }

    @Test func roundTripsAcrossCenturies() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let micros = Int64(generator.next() % 8_000_000_000_000_000) - 1_000_000_000_000_000
            let timestamp = Timestamp(microsecondsSinceEpoch: micros)
            #expect(Timestamp(rfc3339: timestamp.description) == timestamp)
        }
    }

    @Test func advancingSaturates() {
        let timestamp = Timestamp(microsecondsSinceEpoch: .max - 5)
        #expect(timestamp.advanced(by: .seconds(10)).microsecondsSinceEpoch == .max)
        #expect(Timestamp(microsecondsSinceEpoch: 0).advanced(by: .milliseconds(1500)).microsecondsSinceEpoch == 1_500_000)
    }

    @Test func theFixedPositionFormAgreesWithTheGeneralParser() {
        var generator = SplitMix64(seed: 11)
        for _ in 0..<2000 {
            let timestamp = Timestamp(microsecondsSinceEpoch: Int64(generator.next() % 4_000_000_000_000_000))
            let canonical = timestamp.description
            #expect(canonical.utf8.count == 27)
            // A lowercase `t` and a `+00:00` offset take the general path to the same instant.
            let general = String(canonical.map { $0 == "T" ? "t" : $0 }.dropLast()) + "+00:00"
            #expect(Timestamp(rfc3339: canonical) == timestamp)
            #expect(Timestamp(rfc3339: general) == timestamp)
        }
        for bad in ["2026-13-01T00:00:00.000000Z", "2026-11-29T24:00:00.000000Z", "2026-11-29T00:00:00.00000xZ", "2026-11-29T00:00:00.000000X"] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad)")
        }
    }
}
