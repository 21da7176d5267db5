// A consumer-group member for the Kafka and runtime integration tests: it records every record it
// processes as a line in a file, with the partitions it was assigned, so a test can check no loss and
// per-key order across a member being killed.
import Foundation
import Kafka
import Observability
import Runtime
import Stage

let spec = CommandLineSpec(
    executable: "kafka-group-member",
    summary: "Consumes a topic in a group and appends 'R <partition> <offset> <key> <value>' per record and 'A <partitions>' per assignment to a file.",
    options: [
        OptionSpec("topic", environment: "TOPIC", help: "Topic to consume.", isRequired: true),
        OptionSpec("group", environment: "GROUP_ID", help: "Consumer group id.", isRequired: true),
        OptionSpec("output", environment: "OUTPUT", help: "File to append processed records to.", isRequired: true),
        OptionSpec("processing-delay-us", default: "0", help: "Microseconds to spend per record, to slow the member down."),
    ] + ServiceSettings.options(defaultHTTPPort: 0))

let options = CommandLineEntry.parse(spec)
let settings: ServiceSettings
do { settings = try ServiceSettings(options) } catch { CommandLineEntry.fail(spec.executable, error.message, status: 64) }
let logger = Logger(stage: "kafka-group-member", minimumLevel: settings.logLevel)
let output = options.string("output")!
guard FileManager.default.createFile(atPath: output, contents: nil) else { CommandLineEntry.fail(spec.executable, "cannot create \(output)") }
guard let file = FileHandle(forWritingAtPath: output) else { CommandLineEntry.fail(spec.executable, "cannot open \(output)") }
let delay = (try? options.integer("processing-delay-us", in: 0...1_000_000)) ?? 0

let metrics = MetricsRegistry()
let health = HealthState()
let processed = metrics.counter("cohortsync_test_member_records_total", help: "Records processed.")
do {
    let consumer = try KafkaConsumer(
        configuration: KafkaConsumerConfiguration(
            groupID: options.string("group")!, topics: [options.string("topic")!],
            kafka: .fromEnvironment(ProcessInfo.processInfo.environment)),
        logger: logger)
    let loop = ProcessingLoop(consumer: consumer, logger: logger)
    let hooks = ProcessingLoop.PartitionHooks(assigned: { partitions in
        file.write(Data("A \(partitions.map { String($0.partition) }.joined(separator: ","))\n".utf8))
        health.setReady(true)
    })
    let service = ProcessingService(name: "consume", loop: loop, hooks: hooks) { batch, _ in
        for record in batch {
            if delay > 0 { try await Task.sleep(for: .microseconds(delay)) }
            let key = record.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"
            file.write(Data("R \(record.partition) \(record.offset) \(key) \(String(decoding: record.value, as: UTF8.self))\n".utf8))
            processed.increment()
        }
    }
    let http = ObservabilityServer.service(host: settings.httpHost, port: settings.httpPort, metrics: metrics, health: health, logger: logger)
    try await ServiceGroup(services: [http, service], gracePeriod: settings.gracePeriod, logger: logger).run()
} catch {
    logger.error("member failed", [("error", .string(String(describing: error)))])
    exit(1)
}
