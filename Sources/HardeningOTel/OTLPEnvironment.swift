import Foundation

/// What the standard OpenTelemetry variables say about export, for the parts that decide whether
/// to export at all (the agent without an `otlp` section, the demo without `--otlp`). Everything
/// else they set, swift-otel reads itself.
public enum OTLPEnvironment {
    /// The collector's address from `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, if either is set and not empty.
    public static func endpoint(in environment: [String: String]) -> String? {
        for key in ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
            if let value = environment[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        }
        return nil
    }

    /// Whether `OTEL_SDK_DISABLED=true` turns export off (as the specification asks, whatever
    /// else is configured).
    public static func disablesExport(_ environment: [String: String]) -> Bool {
        environment["OTEL_SDK_DISABLED"]?.trimmingCharacters(in: .whitespaces).lowercased() == "true"
    }
}
