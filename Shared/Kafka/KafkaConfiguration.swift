import CRdKafka
import Foundation
import Observability

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

    /// `KAFKA_*` variables `fromEnvironment` skipped because they name no librdkafka property, sorted.
    public var ignoredVariables: [String] = []

    /// Reads `KAFKA_BROKERS` (→ `bootstrap.servers`) and every `KAFKA_<PROPERTY>` variable.
    ///
    /// The property name is the rest of the variable's name, lowercased, with `_` read as `.` and `__` as `_`:
    /// `KAFKA_SECURITY_PROTOCOL=SASL_SSL` sets `security.protocol`, `KAFKA_SASL_PASSWORD` sets `sasl.password`.
    /// A variable that names no librdkafka property is skipped and listed in `ignoredVariables`: Kubernetes
    /// injects `KAFKA_PORT=tcp://…`, `KAFKA_SERVICE_HOST` and the like into every pod when a Service is named
    /// `kafka`. A real property with a bad value is kept, so creating the client fails naming it.
    /// Without `KAFKA_BROKERS` or `KAFKA_BOOTSTRAP_SERVERS` the broker list defaults to `127.0.0.1:9092`.
    public static func fromEnvironment(_ environment: [String: String]) -> KafkaConfiguration {
        var properties = ["bootstrap.servers": "127.0.0.1:9092"]
        var ignored: [String] = []
        for (name, value) in environment where name.hasPrefix("KAFKA_") && name != "KAFKA_BROKERS" {
            let suffix = name.dropFirst("KAFKA_".count)
            guard !suffix.isEmpty else { continue }
            let property = propertyName(fromVariableSuffix: String(suffix))
            guard isKnownProperty(property, value: value) else {
                ignored.append(name)
                continue
            }
            properties[property] = value
        }
        if let brokers = environment["KAFKA_BROKERS"] {
            properties["bootstrap.servers"] = brokers
        }
        var configuration = KafkaConfiguration(properties: properties)
        configuration.ignoredVariables = ignored.sorted()
        return configuration
    }

    /// Whether librdkafka has a (global or topic) property called `name`, asked of a scratch configuration.
    static func isKnownProperty(_ name: String, value: String) -> Bool {
        guard let scratch = rd_kafka_conf_new() else { return true }
        defer { rd_kafka_conf_destroy(scratch) }
        var errorText = [CChar](repeating: 0, count: 256)
        return rd_kafka_conf_set(scratch, name, value, &errorText, errorText.count) != RD_KAFKA_CONF_UNKNOWN
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
