import Config
import Destinations
import Foundation
import HTTPClient
import Kafka
import Observability
import Runtime
import Stage
import Wire

/// The options of an uploader besides the stage and service options.
public enum UploadOptions {
    public static func options(for destination: Destination) -> [OptionSpec] {
        let budget = destination == .x ? "450" : "600"
        return [
            OptionSpec(
                "concurrency", environment: "UPLOAD_CONCURRENCY", default: "8",
                help: "Requests in flight at once to the API (keep-alive connections to its host); batches of one audience always go one after another."),
            OptionSpec(
                "requests-per-minute", environment: "UPLOAD_REQUESTS_PER_MINUTE", default: budget,
                help: "Write requests per minute per connection (X: its write category; TikTok: per token). X's x-rate-limit headers lower it further."),
            OptionSpec("max-attempts", environment: "UPLOAD_MAX_ATTEMPTS", default: "8", help: "Failed attempts of a call before its batch is dead-lettered as retries-exhausted (replayable); rate-limit answers do not count."),
            OptionSpec("pause-probe-seconds", environment: "UPLOAD_PAUSE_PROBE_SECONDS", default: "60", help: "How long a connection whose credential was refused waits before trying it again (sooner if the credential changes)."),
            OptionSpec(
                "request-timeout-seconds", environment: "UPLOAD_REQUEST_TIMEOUT_SECONDS", default: "8",
                help: "Deadline of one HTTP request; below 40 % of --shutdown-grace, since a stop waits for a create in flight."),
        ]
    }
}

/// What `cohortsync-upload-x` and `cohortsync-upload-tiktok` do, the destination being the one difference.
public enum UploadCommand {
    /// Parses the command line, checks the topics the uploader needs, and runs it until SIGTERM.
    public static func run(_ destination: Destination) async -> Never {
        let name = "upload-\(destination.name)"
        let api = destination == .x ? "the X Ads API (custom audiences)" : "the TikTok Business API (partner segments)"
        guard let batches = TopicNames.batches(for: destination) else { CommandLineEntry.fail("cohortsync-\(name)", "no batches topic for \(destination.name)", status: 64) }
        let spec = CommandLineSpec(
            executable: "cohortsync-\(name)",
            summary: "Uploads the batches on \(batches) to \(api): creates each audience once "
                + "(mapping in \(TopicNames.audiences)), retries transient failures, pauses a connection whose credential is refused, "
                + "and writes one result per batch to \(TopicNames.results) and refused users to \(TopicNames.deadLetters).",
            options: StageOptions.options(defaultGroup: "cohortsync-\(name)") + UploadOptions.options(for: destination)
                + ServiceSettings.options(defaultHTTPPort: destination == .x ? 9104 : 9105))
        let startup = StageStartup(spec: spec, stage: name)
        let admin = startup.makeAdmin()
        for topic in [batches, TopicNames.results, TopicNames.deadLetters] { _ = startup.partitionCount(of: topic, admin: admin) }
        let mappingPartitions = startup.partitionCount(of: TopicNames.audiences, admin: admin)
        await startup.runUploader(destination: destination, topic: batches, metrics: MetricsRegistry(), health: HealthState(), mappingPartitions: mappingPartitions)
    }
}

extension StageStartup {
    /// Runs an uploader until SIGTERM: the processing loop over the destination's batches topic, the
    /// engine's mapping read and revocation hooks, and the `/metrics` `/healthz` `/readyz` listener.
    /// Exits 0 after a graceful stop, 1 on a fatal error, 78 when a connection's credential cannot be read.
    func runUploader(destination: Destination, topic: String, metrics: MetricsRegistry, health: HealthState, mappingPartitions: Int32) async -> Never {
        let budget = ShutdownBudget(gracePeriod: settings.gracePeriod)
        let upload: UploadSettings
        let requestsPerMinute: Int
        let requestTimeout: Duration
        let concurrency: Int
        do {
            upload = UploadSettings(
                maxAttempts: try options.integer("max-attempts", in: 1...1_000), pauseProbe: .seconds(try options.integer("pause-probe-seconds", in: 1...86_400)),
                recordBytes: recordLimit.bytes)
            requestsPerMinute = try options.integer("requests-per-minute", in: 1...10_000_000)
            requestTimeout = .seconds(try options.integer("request-timeout-seconds", in: 1...120))
            concurrency = try options.integer("concurrency", in: 1...256)
        } catch {
            CommandLineEntry.fail(executable, error.message, status: 64)
        }
        // A stop lets running uploads go on for the drain share of the grace period, then waits for a create in
        // flight (one request) before leaving: both must fit, or the grace period ends between a create and its mapping.
        guard requestTimeout < budget.drain else {
            CommandLineEntry.fail(
                executable,
                "--request-timeout-seconds \(requestTimeout.components.seconds) must be below \(budget.drain.components.seconds) s, 40 % of --shutdown-grace; lower it or raise --shutdown-grace",
                status: 64)
        }
        let transport = URLSessionTransport(maxConnectionsPerHost: concurrency)
        var connections: [UploadConnection] = []
        for connection in config.connections where connection.destination == destination {
            let client: DestinationClient
            do {
                client = try DestinationClient(connection: connection, transport: transport, requestTimeout: requestTimeout, requestsPerMinute: requestsPerMinute)
            } catch {
                CommandLineEntry.fail(executable, "connection \(connection.id): \(error.description)", status: 78)
            }
            connections.append(UploadConnection(id: connection.id, api: client.api, credentials: client.credentials))
        }
        if connections.isEmpty {
            logger.warning("the configuration has no \(destination.name) connection; every batch will be dead-lettered as unknown-connection", [])
        }
        do {
            let producer = try KafkaProducer(configuration: producerKafka, logger: logger)
            let directory = AudienceDirectory(destination: destination, producer: producer, kafka: kafka, logger: logger)
            let consumer = try KafkaConsumer(
                configuration: consumerConfiguration(defaultGroup: "cohortsync-upload-\(destination.name)", topics: [topic]),
                logger: logger)
            let engine = UploadEngine(
                destination: destination, connections: connections, directory: directory, mappingPartitions: mappingPartitions, producer: producer,
                settings: upload, metrics: UploadMetrics(registry: metrics, connections: connections.map(\.id)), logger: logger,
                pauseIntake: { consumer.pause($0) }, resumeIntake: { consumer.resume($0) })
            // The handler only queues, so the loop never waits on a destination; a destination may keep a batch
            // for minutes (retries, a paused credential) without that counting as a stall.
            let loop = ProcessingLoop(consumer: consumer, logger: logger, limits: budget.limits(maxConcurrentBatches: 4))
            let hooks = ProcessingLoop.PartitionHooks(
                assigned: { partitions in
                    try await engine.assigned(partitions)
                    health.setReady(true)
                },
                revoking: { await engine.revoking($0, lost: $1) },
                abandoned: { await engine.abandoned($0) })
            let service = ProcessingService(name: "upload-\(destination.name)", loop: loop, hooks: hooks) { records, completion in
                try await engine.handle(records, completion)
            }
            try await serve([service], consumer: consumer, producer: producer, metrics: metrics, health: health)
        } catch {
            logger.error("uploader stopped", [("error", .string(String(describing: error)))])
            exit(1)
        }
    }
}
