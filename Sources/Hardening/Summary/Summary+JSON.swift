extension Summary {
    /// The summary as one JSON value with every map's keys sorted: two equal summaries give the
    /// same bytes (invariant 1 is checked by comparing these).
    public var json: AttributeValue {
        func map<V>(_ dictionary: [String: V], _ transform: (V) -> AttributeValue) -> AttributeValue {
            .object(Attributes(uniqueKeysWithValues: dictionary.sorted { $0.key < $1.key }.map { ($0.key, transform($0.value)) }))
        }
        return .object([
            "events": .object(["total": .int(events), "by_kind": byKind.json, "by_level": byLevel.json]),
            "operations": map(operations) { $0.json },
            "retries": map(retries) { $0.json },
            "breakers": .object(Attributes(uniqueKeysWithValues: breakers.sorted { $0.key < $1.key }.map { name, breaker in
                var object = breaker.json.objectValue ?? Attributes()
                object["open_ms"] = .double(Double(openMicroseconds(of: name)) / 1000)
                return (name, AttributeValue.object(object))
            })),
            "fallbacks": map(fallbacks) { $0.json },
            "timeouts": map(timeouts) { $0.json },
            "bulkheads": map(bulkheads) { $0.json },
            "rate_limiters": rateLimiters.json,
            "errors": errors.json,
            "health": map(health) { $0.json },
            "config": map(config) { .string($0) },
            "alerts": .object(["fired": alertsFired.json, "resolved": alertsResolved.json]),
            "metrics": .object(["counters": counters.json, "recorders": map(recorders) { $0.json }]),
            "runs": map(runs) { $0.json },
            "loss": .object(lossJSON),
        ])
    }

    private var lossJSON: Attributes {
        var attrs: Attributes = [
            "dropped_by_bus": .int(loss.droppedByBus), "sink_failures": .int(loss.sinkFailures),
            "lost_by_sinks": .int(loss.lostBySinks), "missing_events": .int(Int64(clamping: missingEvents)),
            "malformed_events": malformed.json,
        ]
        // Only where there are any: generate's made-up drops and outages, apart from real loss.
        // Only where a sink's own queue dropped some: by sink.
        if !loss.droppedBySinkQueues.isEmpty {
            attrs.appendUnchecked("dropped_by_sink_queues", .object(Attributes(
                uniqueKeysWithValues: loss.droppedBySinkQueues.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })))
        }
        if loss.syntheticEvents > 0 { attrs.appendUnchecked("synthetic_events", .int(loss.syntheticEvents)) }
        // Only where a run's closing record says so: events lost after the last one written.
        if lostTailEvents > 0 { attrs.appendUnchecked("lost_tail_events", .int(Int64(clamping: lostTailEvents))) }
        return attrs
    }

    /// ``json`` as text.
    public var jsonText: String { json.jsonText }
}
