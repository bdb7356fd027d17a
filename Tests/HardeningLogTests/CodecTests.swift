import Foundation
import Hardening
import HardeningTestKit
import HardeningLog
import HardeningTestSupport
import Testing

@Suite struct CodecTests {
    let encoder = JSONLineEncoder()
    let decoder = JSONLineDecoder()

    private func event(_ kind: EventKind, message: String = "m", attrs: Attributes = [:]) -> Event {
        Event(timestamp: Timestamp(rfc3339: "2026-11-29T00:07:26.123456Z")!, level: .warning, kind: kind, message: message,
              service: "amprenta-rag", host: "web-1", run: "9f1c2a7e5b3d4e60", seq: 1017,
              traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7", attrs: attrs)
    }

    @Test func encodesTheDesignExampleByteForByte() {
        let line = encoder.encode(event(.breakerStateChanged, message: "breaker notion opened after 5 consecutive failures",
                                        attrs: ["breaker": "notion", "from": "closed", "to": "open", "consecutive_failures": 5]))
        let expected = #"{"timestamp":"2026-11-29T00:07:26.123456Z","level":"warning","event":"breaker.state_changed","message":"breaker notion opened after 5 consecutive failures","service":"amprenta-rag","host":"web-1","run":"9f1c2a7e5b3d4e60","seq":1017,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","attrs":{"breaker":"notion","from":"closed","to":"open","consecutive_failures":5}}"# + "\n"
        #expect(String(decoding: line, as: UTF8.self) == expected)
    }

    @Test func everyKindRoundTrips() throws {
        for payload in PayloadSamples.all {
            try roundTrip(payload)
        }
    }

    private func roundTrip<P: EventPayload>(_ payload: P) throws {
        let original = event(P.kind, message: payload.message, attrs: payload.attributes)
        let line = encoder.encode(original)
        #expect(line.filter { $0 == 0x0A }.count == 1 && line.last == 0x0A)
        let decoded = try decoder.decode(line)
        #expect(decoded == original, "\(P.kind)")
        #expect(try decoded.payload(as: P.self) == payload)
        #expect(encoder.encode(decoded) == line, "re-encoding \(P.kind) must give the same bytes")
    }

    @Test func unknownKindsAttrsAndEnvelopeFieldsAreKept() throws {
        let line = #"{"timestamp":"2026-11-29T00:00:00.000001Z","level":"notice","event":"future.kind","message":"x","service":"s","host":"h","run":"0000000000000001","seq":5,"attrs":{"new_attr":[1,2.5,{"deep":null}],"flag":true},"region":"eu-west-1"}"#
        let decoded = try decoder.decode(line)
        #expect(decoded.kind == "future.kind")
        #expect(!decoded.kind.isKnown)
        #expect(decoded.attrs["new_attr"] == [1, 2.5, ["deep": nil]])
        #expect(decoded.extra["region"] == "eu-west-1")
        #expect(String(decoding: encoder.encode(decoded), as: UTF8.self) == line + "\n")
        // Typed reading ignores extra attrs.
        var timing = decoded
        timing.kind = .timingRecorded
        timing.attrs = ["operation": "x", "duration_ms": 3, "outcome": "success", "added_later": "ok"]
        #expect(try timing.payload(as: TimingRecorded.self).durationMs == 3)
    }

    static let nastyStrings: [String] = [
        #"quote " backslash \ slash /"#,
        String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }) + "\u{7F}",
        "line one\nline two\r\nline three",
        "separators \u{2028} and \u{2029}",
        String(decoding: [0x61, 0xFF, 0xFE, 0x62, 0xC3, 0x28, 0xE2, 0x82, 0x63, 0xF0, 0x9F, 0x98], as: UTF8.self),
        "emoji 😀 and 中文 and é",
        "",
    ]

    @Test(arguments: nastyStrings)
    func nastyStringsStayOneValidLine(value: String) throws {
        let original = event("test.nasty", message: value, attrs: [value: .string(value), "list": [.string(value)]])
        let line = encoder.encode(original)
        #expect(line.dropLast().allSatisfy { $0 != 0x0A && $0 != 0x0D })
        #expect(line.allSatisfy { $0 >= 0x20 || $0 == 0x0A }, "no raw control byte")
        let decoded = try decoder.decode(line)
        #expect(decoded == original)
        // Foundation's parser agrees that the line is valid JSON with the same message.
        let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        #expect(object?["message"] as? String == value)
    }

    @Test func invalidUTF8IsRepaired() throws {
        let broken = String(decoding: [0x6F, 0x6B, 0xFF, 0x21], as: UTF8.self)
        #expect(broken == "ok\u{FFFD}!")
        // Invalid bytes inside a line given to the decoder are repaired too.
        var bytes = Array(#"{"timestamp":"2026-11-29T00:00:00Z","level":"info","event":"k","message":"a"#.utf8)
        bytes += [0xFF, 0xC0]
        bytes += Array(#"b","run":"r","seq":1,"attrs":{}}"#.utf8)
        #expect(try decoder.decode(bytes).message == "a\u{FFFD}\u{FFFD}b")
    }

    @Test func oneMebibyteValuesRoundTripUnderAHighCapAndAreTruncatedUnderTheDefault() throws {
        let big = String(repeating: "é0123456789", count: 100_000)  // 1.2 MB of UTF-8
        let original = event("test.big", message: big, attrs: ["payload": .string(big)])
        let uncapped = JSONLineEncoder(maxLineBytes: 4 << 20)
        let line = uncapped.encode(original)
        #expect(try decoder.decode(line) == original)

        let capped = encoder.encode(original)
        #expect(capped.count <= 32 * 1024)
        #expect(capped.filter { $0 == 0x0A }.count == 1)
        let decoded = try decoder.decode(capped)
        #expect(decoded.truncated)
        #expect(decoded.message.count > 1000)
        #expect(big.hasPrefix(decoded.message), "cut on a character boundary")
        #expect(decoded.seq == original.seq && decoded.kind == original.kind)
    }

    @Test func manyKeysAreDroppedToFitTheCap() throws {
        var attrs = Attributes()
        for index in 0..<5000 { attrs.appendUnchecked("key_\(index)", .int(Int64(index))) }
        let line = encoder.encode(event("test.wide", attrs: attrs))
        #expect(line.count <= 32 * 1024)
        let decoded = try decoder.decode(line)
        #expect(decoded.truncated)
        #expect(decoded.attrs["dropped_keys"] == 5000)
    }

    @Test func numbersKeepTheirType() throws {
        let original = event("test.numbers", attrs: ["int": .int(.min), "max": .int(.max), "whole": 3.0, "tiny": 1e-300,
                                                     "huge": 1.5e300, "negzero": -0.0, "nan": .double(.nan)])
        let decoded = try decoder.decode(encoder.encode(original))
        #expect(decoded.attrs["int"] == .int(.min))
        #expect(decoded.attrs["max"] == .int(.max))
        #expect(decoded.attrs["whole"] == .double(3))
        #expect(decoded.attrs["tiny"] == .double(1e-300))
        #expect(decoded.attrs["huge"] == .double(1.5e300))
        #expect(decoded.attrs["nan"] == .null, "JSON has no NaN")
    }

    @Test(arguments: [
        ("", "a line must be a JSON object"),
        ("[1,2]", "a line must be a JSON object"),
        (#"{"timestamp":"x"}"#, "field 'timestamp' must be an RFC 3339 time"),
        (#"{"level":"info"}"#, "missing field 'timestamp'"),
        (#"{"timestamp":"2026-11-29T00:00:00Z","level":"loud","event":"k","run":"r","seq":1}"#, "field 'level' must be a level name (trace … critical)"),
        (#"{"timestamp":"2026-11-29T00:00:00Z","level":"info","event":"k","run":"r","seq":-1}"#, "field 'seq' must be a non-negative integer"),
        (#"{"timestamp":"2026-11-29T00:00:00Z","level":"info","event":"k","run":"r","seq":1,"attrs":[]}"#, "field 'attrs' must be an object"),
        (#"{"a":1} trailing"#, "unexpected bytes after the object"),
        (#"{"a":01}"#, "expected ',' or '}'"),
        (#"{"a":"\x"}"#, "invalid escape"),
        ("{\"a\":\"raw\ttab\"}", "unescaped control character in a string"),
    ])
    func badLinesSayWhatIsWrong(line: String, reason: String) {
        #expect {
            try decoder.decode(line)
        } throws: { error in
            (error as? LineDecodingError)?.reason == reason
        }
    }

    @Test func deepNestingIsRefusedWithoutCrashing() {
        let deep = #"{"timestamp":"2026-11-29T00:00:00Z","level":"info","event":"k","run":"r","seq":1,"attrs":"# +
            String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(throws: LineDecodingError.self) { try decoder.decode(deep) }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SplitMix64(seed: 42)
        let valid = encoder.encode(event(.timingRecorded, attrs: TimingRecorded(operation: "x", durationMs: 1, outcome: "success").attributes))
        #expect((try? decoder.decode(valid)) != nil, "the unmutated line decodes")
        var rejected = 0
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<Int(generator.next() % 4 + 1) {
                let index = Int(generator.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 3 == 0 { bytes.removeLast(Int(generator.next() % UInt64(bytes.count))) }
            // Either an event or a LineDecodingError, never a crash or a hang.
            if (try? decoder.decode(bytes)) == nil { rejected += 1 }
        }
        #expect(rejected > 0, "mutations do produce bad lines, and each was rejected cleanly")
    }
}

@Suite struct FuzzFindingsTests {
    private let decoder = JSONLineDecoder()
    private let encoder = JSONLineEncoder()
    private let prefix = #"{"timestamp":"2026-11-29T00:00:00.000000Z","level":"info","event":"k","message":"m","service":"s","host":"h","run":"0123456789abcdef","seq":1,"#

    @Test func aTraceIDThatIsNotW3CIsKeptAsItCameAndRoundTrips() throws {
        let odd = String(repeating: "Z", count: 100)
        let event = try decoder.decode(prefix + #""trace_id":"\#(odd)","span_id":"00f067aa0ba902b7","attrs":{}}"#)
        #expect(event.traceID == nil && event.extra["trace_id"] == .string(odd))
        #expect(event.spanID == "00f067aa0ba902b7")
        let again = try decoder.decode(encoder.encode(event).dropLast())
        #expect(again == event)
    }

    @Test func numbersADoubleCannotHoldRejectTheLine() {
        #expect(throws: LineDecodingError.self) { try decoder.decode(prefix + #""attrs":{"n":1e999}}"#) }
        #expect(throws: LineDecodingError.self) { try decoder.decode(prefix + #""attrs":{"n":"# + String(repeating: "9", count: 400) + "}}") }
        #expect((try? decoder.decode(prefix + #""attrs":{"n":1e300}}"#)) != nil)
    }

    @Test func aShortFuzzRunFindsNothing() {
        var fuzzer = LogFuzzer(seed: 20_261_129)
        let findings = fuzzer.run(iterations: 4_000)
        #expect(findings.isEmpty, "\(findings.prefix(3))")
        #expect(fuzzer.accepted > 0 && fuzzer.recovered > 0, "the mutations reach both accepting and rejecting paths")
    }
}
