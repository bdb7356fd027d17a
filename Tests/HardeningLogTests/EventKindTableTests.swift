import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

/// The one table of event kinds: every reader (the live fold, replay's decoder and byte scanner,
/// the timeline, the metric catalogue) goes through it and agrees.
@Suite struct EventKindTableTests {
    @Test func theTableHasEveryKindOnceWithItsPayloadType() {
        var kinds: [EventKind] = []
        var countedOnly: Set<EventKind> = []
        var found: [Bool] = []
        for type in EventKind.payloadTypes {
            let kind = type.kind
            kinds.append(kind)
            if type.isCountedOnly { countedOnly.insert(kind) }
            let looked = kind.payloadType.map { ObjectIdentifier($0) }
            found.append(looked == ObjectIdentifier(type))
        }
        #expect(Set(kinds).count == kinds.count, "a kind twice in the table")
        #expect(EventKind.known == kinds)
        #expect(found.allSatisfy { $0 }, "each kind finds its own payload type")
        #expect(EventKind("custom.kind").payloadType == nil)
        #expect(countedOnly == [.logMessage, .fileOpened, .fileClosed, .fileRotated])
    }

    /// Every kind, real and synthetic, with varied values: the live fold, the decoder and the
    /// byte scanner give the same summary and the same timeline; the synthetic loss is counted
    /// apart, never as loss.
    @Test func everyKindFoldsTheSameLiveDecodedAndScanned() async throws {
        let directory = TemporaryDirectory(prefix: "kind-table")
        defer { directory.remove() }
        let synthetic: [any EventPayload] = [
            BusDropped(count: 7, totalDropped: 7, policy: "drop_newest", synthetic: true),
            SinkDropped(sink: "stdout", count: 2, totalDropped: 2, policy: "drop_newest", synthetic: true),
            SinkFailed(sink: "file:/synthetic", error: "synthetic failure", errno: 28, failedEvents: 1, synthetic: true),
            SinkRecovered(sink: "file:/synthetic", lostEvents: 1, failedWrites: 1, downtimeMs: 10, synthetic: true),
        ]
        let payloads = PayloadSamples.all.filter { type(of: $0).kind != .fileOpened && type(of: $0).kind != .fileClosed } + synthetic
        var events: [Event] = []
        var seq: UInt64 = 0
        for round in 0..<3 {
            for payload in payloads {
                seq += 1
                var attrs = payload.attributes
                if round == 1, case .string(let text)? = attrs["operation"] { attrs["operation"] = .string(text + ".two") }
                if round == 2, case .double(let value)? = attrs["duration_ms"] { attrs["duration_ms"] = .double(value * 1000 + 0.001) }
                events.append(Event(timestamp: Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000 + Int64(seq) * 250_000), level: .info,
                                    kind: type(of: payload).kind, message: "m", service: "rag", host: "h", run: "0123456789abcdef", seq: seq,
                                    attrs: attrs))
            }
        }
        let live = Summary(folding: events)
        var timeline = Timeline()
        for event in events { timeline.record(event) }
        #expect(live.loss.syntheticEvents == 3 * 4)
        #expect(live.loss.droppedByBus == 3 * 3 && live.loss.sinkFailures == 3 && live.loss.droppedBySinkQueues == ["stdout": 15])
        #expect(live.malformed.isEmpty, "\(live.malformed)")
        for type in EventKind.payloadTypes where type.kind != .fileOpened && type.kind != .fileClosed {
            #expect(live.byKind[type.kind.rawValue] != nil, "\(type.kind) folded")
        }

        var bytes: [UInt8] = []
        let encoder = JSONLineEncoder()
        for event in events { encoder.append(event, to: &bytes) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/events.jsonl"))
        var decoding = Replay()
        decoding.scansBytes = false
        let decoded = try decoding.run(ReplayInputs([directory.path + "/events.jsonl"]))
        let scanned = try Replay().run(ReplayInputs([directory.path + "/events.jsonl"]))
        #expect(decoded.summary.jsonText == live.jsonText)
        #expect(scanned.summary.jsonText == live.jsonText)
        #expect(scanned.timeline.buckets == timeline.buckets && decoded.timeline.buckets == timeline.buckets)
        #expect(scanned.timeline.stateChanges == timeline.stateChanges)
        #expect(scanned.prometheusText == decoded.prometheusText)
    }
}
