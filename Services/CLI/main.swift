// cohortsync: the operator's command line. Wires options, Kafka and the command types; nothing more.
import Config
import Foundation
import Identity
import Kafka
import Observability
import Runtime
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync",
    summary: """
        CohortSync operator commands.

        commands:
          topics create   create the internal topics (members and hashed with equal partition counts)
          topics check    show partition counts and check the alignment the stages require
          topics delete NAME...
                          delete topics that are not the pipeline's own (scratch and benchmark topics, a retired
                          upstream topic) and everything in them; cohortsync.* topics are refused; exits 1 when
                          a name was refused, unknown or could not be deleted
          identify --destination x|tiktok --type TYPE [--default-region US] VALUE
                          print the normalized form and SHA-256 a destination receives, or why the value is refused;
                          TYPE: email, phone, idfa, gaid, android_id, x_handle, x_id
          holds list      show snapshot removals the batcher held (over a sync's maxRemovalFraction)
          holds confirm --connection ID --audience ID [--snapshot ID]
          holds discard --connection ID --audience ID [--snapshot ID]
                          apply or drop a held removal; without --snapshot, whichever snapshot is held
          status [--config FILE]
                          per synced audience: its state in the batcher, members it sent (or is sending), the
                          destination audiences, the last upload result (all read from the pipeline's topics);
                          with the configuration (--config or COHORTSYNC_CONFIG) and its credentials, also each
                          destination audience's size as the destination reports it
          audiences list  our audiences and the destination audiences created for them (cohortsync.audiences.v1)
          dlq list [--stage S] [--reason R] [--connection ID]
                          the records the stages refused (cohortsync.dlq.v1), oldest first, with their reasons
          dlq replay [--stage S] [--reason R] [--connection ID] [--dry-run]
                          once the cause is fixed, send the uploaders' retries-exhausted and unknown-connection
                          batches back to their batches topic, cut to what the batcher still intends (never
                          undoing a later exit, withdrawal or deletion); upstream records are never stored,
                          the CDP sends those again

        Listings print aligned tables; --json prints a JSON array for scripts.

        Kafka connection: KAFKA_BROKERS (default 127.0.0.1:9092) and any KAFKA_<librdkafka property>.
        """,
    options: [
        OptionSpec("member-partitions", environment: "COHORTSYNC_MEMBER_PARTITIONS", default: "12", help: "Partitions of members, hashed and the batcher changelog."),
        OptionSpec("batch-partitions", environment: "COHORTSYNC_BATCH_PARTITIONS", default: "6", help: "Partitions of the batches, results and DLQ topics."),
        OptionSpec("replication-factor", environment: "COHORTSYNC_REPLICATION_FACTOR", default: "-1", help: "Replication factor (-1: the broker's default)."),
        OptionSpec("destination", help: "identify: x or tiktok."),
        OptionSpec("type", help: "identify: the identifier type."),
        OptionSpec("default-region", help: "identify: ISO region for national phone numbers, for example US."),
        OptionSpec("connection", help: "holds confirm|discard: the connection of the held removal; status, dlq: only this connection's."),
        OptionSpec("audience", help: "holds confirm|discard: the upstream audience id of the held removal."),
        OptionSpec("snapshot", help: "holds confirm|discard: the held snapshot id (as `holds list` shows it)."),
        OptionSpec("stage", help: "dlq: only letters of this stage (ingest, normalize, batcher, upload-x, upload-tiktok)."),
        OptionSpec("reason", help: "dlq: only letters with this reason (as dlq list shows it)."),
        .flag("dry-run", help: "dlq replay: say what would be sent, send nothing."),
        .flag("json", help: "Listings as a JSON array of objects instead of a table."),
        OptionSpec(
            "config", environment: "COHORTSYNC_CONFIG",
            help: "status: the connections-and-syncs JSON file; with it, status asks each destination for its audiences' sizes."),
        OptionSpec("log-level", environment: "LOG_LEVEL", default: "warning", help: "debug, info, warning or error."),
    ],
    positionalUsage: "topics create|check|delete | identify VALUE | holds list|confirm|discard | status | audiences list | dlq list|replay")

let options = CommandLineEntry.parse(spec)
let logger = Logger(stage: "cli", minimumLevel: LogLevel(name: options.string("log-level") ?? "warning") ?? .warning)
let say: @Sendable (String) -> Void = { print($0) }

do {
    switch options.positionals {
    case ["topics", "create"], ["topics", "check"]:
        let layout = TopicLayout(
            memberPartitions: Int32(try options.integer("member-partitions", in: 1...10_000)),
            batchPartitions: Int32(try options.integer("batch-partitions", in: 1...10_000)),
            replicationFactor: Int32(try options.integer("replication-factor", in: -1...100)))
        let admin = try KafkaAdmin(configuration: .fromEnvironment(ProcessInfo.processInfo.environment), logger: logger)
        let command = TopicsCommand(admin: admin, layout: layout, print: say)
        let healthy = options.positionals[1] == "create" ? try command.create() : try command.check()
        exit(healthy ? 0 : 1)
    case let arguments where arguments.count > 2 && arguments[0] == "topics" && arguments[1] == "delete":
        let admin = try KafkaAdmin(configuration: .fromEnvironment(ProcessInfo.processInfo.environment), logger: logger)
        guard TopicsCommand.delete(Array(arguments.dropFirst(2)), admin: admin, print: say) else { exit(1) }
    case let arguments where arguments.first == "identify":
        guard arguments.count == 2 else {
            CommandLineEntry.fail("cohortsync", "identify takes exactly one VALUE (quote it if it has spaces)", status: 64)
        }
        guard let destination = options.string("destination").flatMap(Destination.init(name:)) else {
            CommandLineEntry.fail("cohortsync", "identify needs --destination x or --destination tiktok", status: 64)
        }
        guard let kind = options.string("type").flatMap(IdentifierType.init(name:)) else {
            CommandLineEntry.fail(
                "cohortsync", "identify needs --type, one of: \(IdentifierType.kinds.map(\.name).joined(separator: ", "))", status: 64)
        }
        if let region = options.string("default-region"), !PhoneRegions.isKnown(region) {
            CommandLineEntry.fail(
                "cohortsync", "--default-region \(region) is not known; use one of \(PhoneRegions.all.joined(separator: " "))", status: 64)
        }
        let result = IdentifyCommand(destination: destination, kind: kind, defaultRegion: options.string("default-region")).run(arguments[1])
        result.lines.forEach(say)
        exit(result.sent ? 0 : 2)
    case ["holds", "list"]:
        let command = HoldsCommand(kafka: .fromEnvironment(ProcessInfo.processInfo.environment), logger: logger)
        HoldsCommand.render(try await command.list()).forEach(say)
    case ["holds", "confirm"], ["holds", "discard"]:
        guard let connection = options.string("connection"), let audience = options.string("audience") else {
            CommandLineEntry.fail("cohortsync", "holds \(options.positionals[1]) needs --connection and --audience (see cohortsync holds list)", status: 64)
        }
        let action: HoldAction = options.positionals[1] == "confirm" ? .confirm : .discard
        let command = HoldsCommand(kafka: .fromEnvironment(ProcessInfo.processInfo.environment), logger: logger)
        let partitions = try await command.decide(action, connectionID: connection, audienceID: audience, snapshotID: options.string("snapshot") ?? "")
        say("\(options.positionals[1]) for \(connection)/\(audience) written to \(partitions) partitions of \(TopicNames.hashed); each batcher partition applies it in order")
    case ["status"]:
        var command = StatusCommand(kafka: .fromEnvironment(ProcessInfo.processInfo.environment), logger: logger)
        if let path = options.string("config") {
            do {
                command.sizes = DestinationSizes(config: try ConfigParser.load(path: path)) { ProcessInfo.processInfo.environment }
            } catch {
                CommandLineEntry.fail("cohortsync", "--config \(path): \(error.description)", status: 78)
            }
        }
        var (rows, unreadable) = try await command.rows()
        if let connection = options.string("connection") {
            rows = rows.filter { $0.key.connection == connection }
        }
        StatusCommand.table(rows).lines(json: options.isSet("json")).forEach(say)
        if unreadable > 0 {
            FileHandle.standardError.write(Data("cohortsync: \(unreadable) records of the changelog or the results could not be read and were left out (written by a newer version?)\n".utf8))
        }
    case ["audiences", "list"]:
        let command = AudiencesCommand(kafka: .fromEnvironment(ProcessInfo.processInfo.environment), logger: logger)
        try await command.list().lines(json: options.isSet("json")).forEach(say)
    case ["dlq", "list"], ["dlq", "replay"]:
        if let stage = options.string("stage"), !DeadLetterCommand.stages.contains(stage) {
            CommandLineEntry.fail("cohortsync", "--stage \(stage) is not a stage; use one of \(DeadLetterCommand.stages.joined(separator: ", "))", status: 64)
        }
        if options.positionals[1] == "list", options.isSet("dry-run") {
            CommandLineEntry.fail("cohortsync", "--dry-run is for dlq replay; dlq list never sends anything", status: 64)
        }
        let command = DeadLetterCommand(kafka: .fromEnvironment(ProcessInfo.processInfo.environment), logger: logger)
        let filter = DeadLetterCommand.Filter(stage: options.string("stage") ?? "", reason: options.string("reason") ?? "", connection: options.string("connection") ?? "")
        let entries = try await command.letters(filter)
        if options.positionals[1] == "list" {
            DeadLetterCommand.table(entries).lines(json: options.isSet("json")).forEach(say)
        } else {
            let dryRun = options.isSet("dry-run")
            let outcome = try await command.replay(entries, dryRun: dryRun)
            say("\(dryRun ? "would replay" : "replayed") \(outcome.sent.values.reduce(0, +)) of \(entries.count) matching letters"
                + outcome.sent.sorted { $0.key < $1.key }.map { " · \($0.value) to \($0.key)" }.joined())
            for (reason, count) in outcome.skipped.sorted(by: { $0.key < $1.key }) where count > 0 {
                say("left out \(count): \(reason)")
            }
        }
    case []:
        CommandLineEntry.fail("cohortsync", "no command given; run cohortsync --help for the commands", status: 64)
    default:
        CommandLineEntry.fail("cohortsync", "unknown command '\(options.positionals.joined(separator: " "))'; run cohortsync --help", status: 64)
    }
} catch let error as RuntimeError {
    CommandLineEntry.fail("cohortsync", error.message, status: 64)
} catch {
    CommandLineEntry.fail("cohortsync", String(describing: error))
}
