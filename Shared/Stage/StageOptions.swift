import Runtime

/// The options every pipeline stage takes besides the shared service options: configuration and group.
public enum StageOptions {
    /// `--config`, `--print-config`, `--group` with the stage's default group id, `--max-record-bytes`,
    /// `--idle-fetch-pause-ms`.
    public static func options(defaultGroup: String) -> [OptionSpec] {
        [
            OptionSpec("config", environment: "COHORTSYNC_CONFIG", help: "Path of the connections-and-syncs JSON file.", isRequired: true),
            .flag("print-config", help: "Print the effective configuration (credentials as references, never values) and exit."),
            OptionSpec("group", environment: "COHORTSYNC_GROUP", default: defaultGroup, help: "Kafka consumer group id; every replica of the stage uses the same."),
            OptionSpec(
                "max-record-bytes", environment: "COHORTSYNC_MAX_RECORD_BYTES", default: String(RecordSizeLimit.defaultBytes),
                help: "Largest record (key, value, headers) the stage writes; a larger one is dead-lettered as too-large. Brokers must accept at least this."),
            OptionSpec(
                "idle-fetch-pause-ms", environment: "COHORTSYNC_IDLE_FETCH_PAUSE_MS", default: "0",
                help: "Pause fetching a partition this long each time a fetch of it comes back empty at its end (0: never). Only for a broker that answers an empty fetch at once (the local development broker), where a caught-up consumer otherwise fetches in a tight loop; Apache Kafka needs 0."),
        ]
    }
}
