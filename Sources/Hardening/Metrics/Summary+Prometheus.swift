extension Summary {
    /// The summary as Prometheus text exposition (format 0.0.4), every family of
    /// ``MetricCatalogue`` in its order: what the agent's `/metrics` serves live and what
    /// `hardening replay --format prometheus` prints for the same events.
    public var prometheusExposition: String {
        var out = PrometheusExposition()
        write(to: &out)
        return out.text
    }

    /// Writes the catalogue's families of this summary to `out`.
    public func write(to out: inout PrometheusExposition) {
        typealias Sample = PrometheusExposition.Sample
        func counts(_ tally: Tally) -> [Sample] {
            tally.sorted { $0.key < $1.key }.map { ([$0.key], Double($0.value)) }
        }
        func nested(_ map: [String: Tally]) -> [Sample] {
            map.sorted { $0.key < $1.key }.flatMap { name, tally in
                tally.sorted { $0.key < $1.key }.map { ([name, $0.key], Double($0.value)) }
            }
        }
        func quantiles(_ items: [(String, LatencyStats)]) -> [Sample] {
            items.flatMap { name, latency in
                MetricCatalogue.quantiles.map { ([name, $0.label], (latency.percentileMilliseconds($0.percentile) * 1000).rounded() / 1e6) }
            }
        }
        let catalogue = MetricCatalogue.self
        let operations = self.operations.sorted { $0.key < $1.key }
        out.family(catalogue.events, counts(byKind))
        out.family(catalogue.calls, operations.map { ([$0.key], Double($0.value.count)) })
        out.family(catalogue.callErrors, operations.map { ([$0.key], Double($0.value.errors)) })
        out.family(catalogue.fallbackCalls, operations.map { ([$0.key], Double($0.value.fallbacks)) })
        out.family(catalogue.slowCalls, operations.map { ([$0.key], Double($0.value.slow)) })
        out.histogram(catalogue.callDuration, operations.map { ([$0.key], $0.value.latency) })
        out.family(catalogue.callDurationQuantiles, quantiles(operations.map { ($0.key, $0.value.latency) }))

        let retries = self.retries.sorted { $0.key < $1.key }
        out.family(catalogue.retriedAttempts, retries.map { ([$0.key], Double($0.value.retriedAttempts)) })
        out.family(catalogue.retrySucceeded, retries.map { ([$0.key], Double($0.value.succeededAfterRetry)) })
        out.family(catalogue.retryExhausted, nested(self.retries.mapValues(\.exhausted)))

        let breakers = self.breakers.sorted { $0.key < $1.key }
        out.family(catalogue.breakerTransitions, nested(self.breakers.mapValues(\.transitions)))
        out.family(catalogue.breakerRejected, breakers.map { ([$0.key], Double($0.value.rejected)) })
        out.family(catalogue.breakerOpenTime, breakers.map { ([$0.key], Double(openMicroseconds(of: $0.key)) / 1e6) })
        out.family(catalogue.breakerState, breakers.flatMap { name, breaker -> [Sample] in
            guard let latest = breaker.latest?.state else { return [] }
            return MetricCatalogue.breakerStates.map { ([name, $0], $0 == latest ? 1 : 0) }
        })

        out.family(catalogue.fallbacks, nested(fallbacks))
        out.family(catalogue.timeouts, nested(timeouts))
        out.family(catalogue.bulkheadRejected, nested(bulkheads))
        out.family(catalogue.rateLimited, counts(rateLimiters))
        out.family(catalogue.errors, counts(errors.byOperation))
        out.family(catalogue.errorsByType, counts(errors.byType))

        let health = self.health.sorted { $0.key < $1.key }
        out.family(catalogue.probes, nested(self.health.mapValues(\.byStatus)))
        out.histogram(catalogue.probeDuration, health.map { ([$0.key], $0.value.latency) })
        out.family(catalogue.healthUp, health.compactMap { name, check in
            check.last.map { ([name], $0.status == HealthStatus.healthy.rawValue ? 1 : 0) }
        })
        out.family(catalogue.healthStatus, health.compactMap { name, check in
            check.last.map { ([name], Self.statusRank($0.status)) }
        })
        out.family(catalogue.alertsFired, counts(alertsFired))
        out.family(catalogue.alertsResolved, counts(alertsResolved))

        out.family(catalogue.metricCounters, counts(counters))
        let recorders = self.recorders.sorted { $0.key < $1.key }.filter { $0.value.count > 0 }
        out.family(catalogue.metricRecorders, recorders.flatMap { series, recorded -> [Sample] in
            [("last", recorded.last?.value ?? 0), ("min", recorded.min), ("max", recorded.max),
             ("mean", Double(recorded.sumMillionths) / 1e6 / Double(recorded.count))].map { ([series, $0.0], $0.1) }
        })
        out.family(catalogue.metricRecorderValues, recorders.map { ([$0.key], Double($0.value.count)) })

        out.family(catalogue.droppedByBus, [([], Double(loss.droppedByBus))])
        out.family(catalogue.missing, [([], Double(Int64(clamping: missingEvents)))])
        out.family(catalogue.droppedBySinks, counts(loss.droppedBySinkQueues))
        out.family(catalogue.sinkFailures, [([], Double(loss.sinkFailures))])
        out.family(catalogue.lostBySinks, [([], Double(loss.lostBySinks))])
        out.family(catalogue.lostTail, [([], Double(Int64(clamping: lostTailEvents)))])
    }

    /// 0 healthy, 1 degraded, 2 unhealthy (and anything else).
    private static func statusRank(_ status: String) -> Double {
        switch status {
        case HealthStatus.healthy.rawValue: 0
        case HealthStatus.degraded.rawValue: 1
        default: 2
        }
    }
}
