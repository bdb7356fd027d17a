// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningLog
import HardeningOTel
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `health` and `alerts` sections of the configuration file.
extension AgentConfiguration {
    static func readHealth(_ fields: YAMLFields?, into health: inout Health, secrets: inout SecretResolver, names: inout [String]) {
        guard let fields else { return }
        if let interval = fields.duration("interval", minimum: .milliseconds(10)) { health.interval = interval }
        if let timeout = fields.duration("timeout", minimum: .milliseconds(1)) { health.timeout = timeout }
        health.slowProbe = fields.duration("slow_probe")
        var seen: Set<String> = []
        for entry in fields.list("checks") {
            let name = entry.string("name")
            let type = entry.oneOf("type", ["http", "tcp", "disk", "sinks", "config", "breaker"])
            if entry.has("name") == false { entry.problems.add(entry.line, entry.keyPath("name"), "every check needs a name") }
            if entry.has("type") == false {
                entry.problems.add(entry.line, entry.keyPath("type"), "every check needs a type: http, tcp, disk, sinks, config or breaker")
            }
            if let name { names.append(name) }
            if let name, !seen.insert(name).inserted {
                entry.problems.add(entry.lineOf("name"), entry.keyPath("name"), "two checks are named '\(name)'")
            }
            let critical = entry.bool("critical") ?? true
            let slow = entry.duration("slow_threshold")
            let timeout = entry.duration("timeout", minimum: .milliseconds(1))
            var kind: Check.Kind?
            switch type {
            case "http":
                let url = entry.string("url").flatMap { secrets.expand($0, line: entry.lineOf("url"), key: entry.keyPath("url")) }
                if let url, !(url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://")) {
                    entry.problems.add(entry.lineOf("url"), entry.keyPath("url"), "expected an http:// or https:// URL")
                }
                if !entry.has("url") { entry.problems.add(entry.line, entry.keyPath("url"), "an http check needs a url") }
                let method = entry.oneOf("method", ["GET", "HEAD", "POST"]) ?? "GET"
                var headers: [(name: String, value: String)] = []
                for pair in entry.pairs("headers") {
                    if let value = secrets.expand(pair.value, line: pair.line, key: entry.keyPath("headers.\(pair.name)")) {
                        if let problem = Self.controlCharacterProblem(value) {
                            entry.problems.add(pair.line, entry.keyPath("headers.\(pair.name)"), problem)
                            continue
                        }
                        headers.append((pair.name, value))
                    }
                }
                var expected = Set(200..<300)
                if let statuses = entry.strings("expect_status") {
                    let numbers = statuses.compactMap { Int($0) }.filter { (100...599).contains($0) }
                    if numbers.count != statuses.count || numbers.isEmpty {
                        entry.problems.add(entry.lineOf("expect_status"), entry.keyPath("expect_status"), "expected HTTP status codes (100-599)")
                    } else {
                        expected = Set(numbers)
                    }
                }
                var observe: (path: String, name: String?)?
                if let observed = entry.fields("observe") {
                    if let path = observed.string("field") {
                        observe = (path, observed.string("as"))
                    } else {
                        observed.problems.add(observed.line, observed.keyPath("field"), "observe needs a field (a dotted path into the JSON body)")
                    }
                    observed.rejectUnknownKeys()
                }
                if let url { kind = .http(url: url, method: method, headers: headers, expectedStatuses: expected, observe: observe) }
            case "tcp":
                let host = entry.string("host") ?? "127.0.0.1"
                if let port = entry.int("port", in: 1...65535) {
                    kind = .tcp(host: host, port: UInt16(port))
                } else if !entry.has("port") {
                    entry.problems.add(entry.line, entry.keyPath("port"), "a tcp check needs a port")
                }
            case "disk":
                let path = entry.string("path")
                let minimum = entry.int("min_free_mib", in: 0...Int(Int32.max)) ?? 100
                if let path { kind = .disk(path: resolve(path, relativeTo: entry.problems.file), minimumFreeBytes: UInt64(minimum) << 20) } else {
                    entry.problems.add(entry.line, entry.keyPath("path"), "a disk check needs a path")
                }
            case "sinks": kind = .sinks
            case "config": kind = .configuration
            case "breaker":
                if let breaker = entry.string("breaker") { kind = .breaker(breaker) } else {
                    entry.problems.add(entry.line, entry.keyPath("breaker"), "a breaker check needs the breaker's name")
                }
            default: break
            }
            entry.rejectUnknownKeys(known: Self.checkKeys, variant: type.map { "a \($0) check" })
            if let name, let kind {
                health.checks.append(Check(name: name, kind: kind, isCritical: critical, slowThreshold: slow, timeout: timeout, keyPath: entry.path))
            }
        }
        fields.rejectUnknownKeys()
    }

    static func readAlerts(_ fields: YAMLFields?, into alerts: inout Alerts, secrets: inout SecretResolver) {
        guard let fields else { return }
        for entry in fields.list("rules") {
            let name = entry.string("name") ?? "rule\(alerts.rules.count + 1)"
            let resolve = entry.int("resolve_after", in: 1...10_000) ?? 2
            let consecutive = entry.int("consecutive_failures", in: 1...10_000)
            let ratio = entry.double("failure_ratio", in: 0.01...1)
            let window = entry.int("window", in: 1...10_000) ?? 10
            let minimum = entry.int("minimum_probes", in: 1...10_000) ?? window
            entry.rejectUnknownKeys()
            switch (consecutive, ratio) {
            case (let count?, nil):
                alerts.rules.append(AlertRule(name: name, trigger: .consecutiveFailures(count), resolveAfterSuccesses: resolve))
            case (nil, let ratio?):
                alerts.rules.append(AlertRule(name: name, trigger: .failureRatio(ratio, window: window, minimumProbes: minimum),
                                              resolveAfterSuccesses: resolve))
            case (_?, _?):
                entry.problems.add(entry.line, entry.path, "give consecutive_failures or failure_ratio, not both")
            case (nil, nil):
                if !entry.has("consecutive_failures") && !entry.has("failure_ratio") {
                    entry.problems.add(entry.line, entry.path, "a rule needs consecutive_failures: N or failure_ratio: 0.5 (with window)")
                }
            }
        }
        if let hook = fields.fields("webhook") {
            let url = hook.string("url").flatMap { secrets.expand($0, line: hook.lineOf("url"), key: hook.keyPath("url")) }
            var headers: [(name: String, value: String)] = []
            for pair in hook.pairs("headers") {
                if let value = secrets.expand(pair.value, line: pair.line, key: hook.keyPath("headers.\(pair.name)")) {
                    if let problem = Self.controlCharacterProblem(value) {
                        hook.problems.add(pair.line, hook.keyPath("headers.\(pair.name)"), problem)
                        continue
                    }
                    headers.append((pair.name, value))
                }
            }
            let timeout = hook.duration("timeout", minimum: .milliseconds(1))
            let attempts = hook.int("attempts", in: 1...20)
            hook.rejectUnknownKeys()
            if let url {
                if !(url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://")) {
                    hook.problems.add(hook.lineOf("url"), hook.keyPath("url"), "expected an http:// or https:// URL")
                }
                var webhook = Webhook(url: url, headers: headers)
                if let timeout { webhook.timeout = timeout }
                if let attempts { webhook.attempts = attempts }
                alerts.webhook = webhook
            } else if !hook.has("url") {
                hook.problems.add(hook.line, hook.keyPath("url"), "a webhook needs a url")
            }
        }
        fields.rejectUnknownKeys()
    }
}
#endif
