import Foundation
import Identity
import Wire

/// `--print-config`: the effective configuration, defaults filled in, credentials shown only as their
/// references and whether they are available, never their values.
public enum ConfigPrinter {
    /// - Parameter kafka: the client settings from `KAFKA_*`, already redacted (TLS keys and SASL passwords
    ///   are shown as `[redacted]`); printed so an operator can see what a stage will connect with.
    public static func render(_ config: CohortSyncConfig, environment: [String: String], kafka: [String: String] = [:]) -> String {
        let connections: [[String: Any]] = config.connections.map { connection in
            var json: [String: Any] = [
                "id": connection.id, "destination": connection.destination.name,
                connection.destination == .x ? "account" : "advertiser": connection.account,
                "forward": connection.forward.sorted().map(\.name), "audienceNaming": connection.audienceNaming.rawValue,
                "apiBaseURL": connection.apiBaseURL,
                "credentials": connection.credentials.mapValues { reference -> [String: Any] in
                    var shown: [String: Any] = [:]
                    switch reference {
                    case .environment(let name): shown["env"] = name
                    case .file(let path): shown["file"] = path
                    }
                    shown["available"] = reference.isAvailable(environment: environment)
                    return shown
                },
            ]
            if let region = connection.defaultRegion { json["defaultRegion"] = region }
            return json
        }
        let syncs: [[String: Any]] = config.syncs.map { sync in
            [
                "audience": sync.audienceID, "connection": sync.connectionID, "cadence": sync.cadence.rawValue,
                "deleteOnUpstreamDelete": sync.deleteOnUpstreamDelete, "maxRemovalFraction": sync.maxRemovalFraction,
                "maxDelaySeconds": sync.maxDelaySeconds,
            ]
        }
        var document: [String: Any] = ["connections": connections, "syncs": syncs]
        if !kafka.isEmpty { document["kafka"] = kafka }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
