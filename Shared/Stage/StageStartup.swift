import Config
import Foundation
import Kafka
import Runtime

/// What every stage does before it consumes: parse options, load and validate the configuration (or print
/// it), and check the topics it needs exist. Failures print a clear message and exit with a sysexits code.
public struct StageStartup: Sendable {
    public let options: ParsedOptions
    public let settings: ServiceSettings
    public let config: CohortSyncConfig
    public let kafka: KafkaConfiguration
    public let logger: Logger

    /// Exits 0 after `--print-config`, 64 on bad options, 78 (`EX_CONFIG`) on an invalid configuration.
    public init(spec: CommandLineSpec, stage: String) {
        options = CommandLineEntry.parse(spec)
        do {
            settings = try ServiceSettings(options)
        } catch {
            CommandLineEntry.fail(spec.executable, error.message, status: 64)
        }
        let environment = ProcessInfo.processInfo.environment
        do {
            config = try ConfigParser.load(path: options.string("config") ?? "")
        } catch {
            CommandLineEntry.fail(spec.executable, error.description, status: 78)
        }
        if options.isSet("print-config") {
            FileHandle.standardOutput.write(Data(ConfigPrinter.render(config, environment: environment).utf8))
            exit(0)
        }
        kafka = .fromEnvironment(environment)
        logger = Logger(stage: stage, minimumLevel: settings.logLevel)
        logger.info("configuration loaded", [("connections", .integer(config.connections.count)), ("syncs", .integer(config.syncs.count)), ("kafka", .string(kafka.redacted.description))])
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
