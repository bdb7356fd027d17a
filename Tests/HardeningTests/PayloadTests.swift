import Hardening
import HardeningTestKit
import HardeningTestSupport
import Testing

@Suite struct PayloadTests {
    @Test func everyKnownKindHasASample() {
        let kinds = Set(PayloadSamples.all.map { type(of: $0).kind })
        #expect(kinds == Set(EventKind.known))
    }

    @Test func payloadsRoundTripThroughAttributes() throws {
        for payload in PayloadSamples.all {
            try roundTrip(payload)
        }
    }

    private func roundTrip<P: EventPayload>(_ payload: P) throws {
        let decoded = try P(attributes: payload.attributes)
        #expect(decoded == payload, "\(P.kind)")
    }

    @Test func missingFieldsAreNamed() {
        #expect(throws: PayloadDecodingError(kind: .retrySucceeded, field: "attempts", problem: "is missing")) {
            try RetrySucceeded(attributes: ["operation": "x", "elapsed_ms": 1.0])
        }
        #expect(throws: PayloadDecodingError(kind: .retrySucceeded, field: "attempts", problem: "is not an integer")) {
            try RetrySucceeded(attributes: ["operation": "x", "attempts": "two", "elapsed_ms": 1.0])
        }
    }
}
