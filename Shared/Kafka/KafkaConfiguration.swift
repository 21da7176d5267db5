import Foundation
import Runtime

/// librdkafka properties for one client, as strings keyed by librdkafka's property names.
///
/// Every property of librdkafka's CONFIGURATION.md can be set, so TLS, SASL and tuning need no code change.
/// Each client kind adds the defaults it needs and enforces the settings at-least-once delivery depends on.
public struct KafkaConfiguration: Sendable, Equatable {
    /// Property name → value, for example `bootstrap.servers` → `127.0.0.1:9092`.
    public var properties: [String: String]

    public init(properties: [String: String] = [:]) {
        self.properties = properties
    }

    /// Reads `KAFKA_BROKERS` (→ `bootstrap.servers`) and every `KAFKA_<PROPERTY>` variable.
    ///
    /// The property name is the rest of the variable's name, lowercased, with `_` read as `.` and `__` as `_`:
    /// `KAFKA_SECURITY_PROTOCOL=SASL_SSL` sets `security.protocol`, `KAFKA_SASL_PASSWORD` sets `sasl.password`.
    /// Without `KAFKA_BROKERS` or `KAFKA_BOOTSTRAP_SERVERS` the broker list defaults to `127.0.0.1:9092`.
    public static func fromEnvironment(_ environment: [String: String]) -> KafkaConfiguration {
        var properties = ["bootstrap.servers": "127.0.0.1:9092"]
        for (name, value) in environment where name.hasPrefix("KAFKA_") && name != "KAFKA_BROKERS" {
            let suffix = name.dropFirst("KAFKA_".count)
            guard !suffix.isEmpty else { continue }
            properties[propertyName(fromVariableSuffix: String(suffix))] = value
        }
        if let brokers = environment["KAFKA_BROKERS"] {
            properties["bootstrap.servers"] = brokers
        }
        return KafkaConfiguration(properties: properties)
    }

    /// `SASL_MECHANISMS` → `sasl.mechanisms`; `__` stands for a literal underscore.
    static func propertyName(fromVariableSuffix suffix: String) -> String {
        let placeholder = "\u{0}"
        return suffix.lowercased()
            .replacingOccurrences(of: "__", with: placeholder)
            .replacingOccurrences(of: "_", with: ".")
            .replacingOccurrences(of: placeholder, with: "_")
    }

    /// The properties with every secret replaced, safe to log or print.
    public var redacted: [String: String] {
        properties.reduce(into: [:]) { result, entry in
            result[entry.key] = Self.isSecret(entry.key) ? "[redacted]" : entry.value
        }
    }

    /// Property names whose values are credentials.
    static func isSecret(_ property: String) -> Bool {
        let lowered = property.lowercased()
        return Redaction.isSecret(fieldName: lowered)
            || ["sasl.oauthbearer.config", "ssl.key.pem", "ssl.certificate.pem", "ssl_key"].contains(lowered)
    }

    /// Returns a copy with `defaults` filled in where unset and `enforced` overriding whatever was set.
    func merging(defaults: [String: String], enforced: [String: String]) -> KafkaConfiguration {
        var merged = defaults.merging(properties) { _, configured in configured }
        merged.merge(enforced) { _, required in required }
        return KafkaConfiguration(properties: merged)
    }
}
