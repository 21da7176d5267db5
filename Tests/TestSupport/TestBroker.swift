import Foundation

/// The Kafka-protocol broker the integration tests use: `KAFKA_BROKERS`, or the local one `scripts/kafka-up` starts.
public enum TestBroker {
    public static var bootstrapServers: String {
        ProcessInfo.processInfo.environment["KAFKA_BROKERS"] ?? "127.0.0.1:9092"
    }

    /// What every stage the tests start is given for this broker: the local broker answers an empty fetch at
    /// once, so a caught-up stage pauses between fetches (`--idle-fetch-pause-ms`) instead of taking a core.
    public static let stageEnvironment = ["COHORTSYNC_IDLE_FETCH_PAUSE_MS": "50"]

    /// A name no earlier run used, for topics and groups.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
