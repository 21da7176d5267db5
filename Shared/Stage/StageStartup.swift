import Config
import Foundation
import Kafka
import Observability
import Runtime

/// What every stage does before it consumes: parse options, load and validate the configuration (or print
/// it), and check the topics it needs exist. Failures print a clear message and exit with a sysexits code.
public struct StageStartup: Sendable {
    public let options: ParsedOptions
    public let settings: ServiceSettings
    public let config: CohortSyncConfig
    public let kafka: KafkaConfiguration
    /// The bound on every record the stage writes (`--max-record-bytes`).
    public let recordLimit: RecordSizeLimit
    /// `--idle-fetch-pause-ms`, nil for 0.
    public let idleFetchPause: Duration?
    public let logger: Logger
    /// The executable's name, as its start-up errors begin.
    public let executable: String

    /// Exits 0 after `--print-config`, 64 on bad options, 78 (`EX_CONFIG`) on an invalid configuration.
    /// A credential that cannot be read is a warning naming its JSON path: these stages never use one.
    public init(spec: CommandLineSpec, stage: String) {
        executable = spec.executable
        options = CommandLineEntry.parse(spec)
        do throws(RuntimeError) {
            settings = try ServiceSettings(options)
            recordLimit = RecordSizeLimit(bytes: try options.integer("max-record-bytes", in: RecordSizeLimit.minimumBytes...RecordSizeLimit.maximumBytes))
            let idleMilliseconds = try options.integer("idle-fetch-pause-ms", in: 0...1_000)
            guard idleMilliseconds == 0 || idleMilliseconds >= 10 else {
                throw RuntimeError(
                    code: .invalidValue,
                    message: "--idle-fetch-pause-ms must be 0 (off) or 10 to 1000, got '\(idleMilliseconds)': each pause ends in a fetch and a wake-up request, so shorter pauses cost more than none")
            }
            idleFetchPause = idleMilliseconds == 0 ? nil : .milliseconds(idleMilliseconds)
        } catch {
            CommandLineEntry.fail(spec.executable, error.message, status: 64)
        }
        let environment = ProcessInfo.processInfo.environment
        do {
            config = try ConfigParser.load(path: options.string("config") ?? "")
        } catch {
            CommandLineEntry.fail(spec.executable, error.description, status: 78)
        }
        kafka = .fromEnvironment(environment)
        if options.isSet("print-config") {
            FileHandle.standardOutput.write(Data(ConfigPrinter.render(config, environment: environment, kafka: kafka.redacted).utf8))
            exit(0)
        }
        logger = Logger(stage: stage, minimumLevel: settings.logLevel)
        if !kafka.ignoredVariables.isEmpty {
            logger.warning(
                "ignoring KAFKA_* variables that name no librdkafka property (Kubernetes sets some for a Service named kafka)",
                [("variables", .string(kafka.ignoredVariables.joined(separator: ",")))])
        }
        for error in CredentialCheck.unavailable(in: config, environment: environment) {
            logger.warning("a credential cannot be read; the stage that calls its destination needs it", [("path", .string(error.path)), ("found", .string(error.found))])
        }
        if let configured = kafka.properties["message.max.bytes"], (Int(configured) ?? 0) < recordLimit.producerMessageMaxBytes {
            CommandLineEntry.fail(
                spec.executable,
                "KAFKA_MESSAGE_MAX_BYTES (message.max.bytes) is \(configured), below the \(recordLimit.producerMessageMaxBytes) that --max-record-bytes \(recordLimit.bytes) needs; unset it (it is derived) or lower --max-record-bytes",
                status: 78)
        }
        logger.info("configuration loaded", [("connections", .integer(config.connections.count)), ("syncs", .integer(config.syncs.count)), ("kafka", .string(kafka.redacted.description))])
    }

    /// The settings of this stage's group member: `--group` (else `defaultGroup`), `topics`, the Kafka
    /// settings and `--idle-fetch-pause-ms`.
    public func consumerConfiguration(defaultGroup: String, topics: [String]) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(groupID: options.string("group") ?? defaultGroup, topics: topics, kafka: kafka)
        configuration.idleFetchPause = idleFetchPause
        return configuration
    }

    /// The Kafka settings for this stage's producer: `message.max.bytes` and `batch.size` derived from
    /// `recordLimit`, so neither librdkafka nor a broker accepting `recordLimit` refuses what it admits.
    public var producerKafka: KafkaConfiguration {
        var configuration = kafka
        if configuration.properties["message.max.bytes"] == nil {
            configuration.properties["message.max.bytes"] = String(recordLimit.producerMessageMaxBytes)
        }
        if configuration.properties["batch.size"] == nil {
            configuration.properties["batch.size"] = String(min(recordLimit.bytes, 1_000_000))
        }
        return configuration
    }

    /// An admin client for the start-up checks, exiting 78 (`EX_CONFIG`) when the Kafka settings are refused.
    public func makeAdmin() -> KafkaAdmin {
        do {
            return try KafkaAdmin(configuration: kafka, logger: logger)
        } catch {
            CommandLineEntry.fail(executable, error.description, status: 78)
        }
    }

    /// The partition count of `topic`, exiting with advice when the topic is missing or the broker unreachable.
    public func partitionCount(of topic: String, admin: KafkaAdmin) -> Int32 {
        do {
            guard let count = try admin.partitionCount(of: topic) else {
                CommandLineEntry.fail(logger.stage, "topic \(topic) does not exist; create the internal topics with `cohortsync topics create`", status: 78)
            }
            return Int32(count)
        } catch {
            CommandLineEntry.fail(logger.stage, "cannot read topic metadata: \(error); check KAFKA_BROKERS", status: 69)
        }
    }
}
