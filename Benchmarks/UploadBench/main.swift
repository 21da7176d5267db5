// upload-bench: writes synthetic batches to a destination's batches topic, as the batcher would, for
// scripts/bench-upload to time an uploader against the sandbox.
import Foundation
import Hashing
import Kafka
import Observability
import Runtime
import Wire

let spec = CommandLineSpec(
    executable: "upload-bench",
    summary: "Writes BATCHES add batches of USERS users each, spread over AUDIENCES audiences, to the destination's batches topic.",
    options: [
        OptionSpec("destination", default: "tiktok", help: "x or tiktok."),
        OptionSpec("connection", default: "bench", help: "The connection id the batches name."),
        OptionSpec("batches", default: "1000", help: "Batches to write."),
        OptionSpec("users", default: "10", help: "Users per batch."),
        OptionSpec("identifiers", default: "1", help: "Digests per user: 1 an email, 2 an email and a phone, 3 also an IDFA."),
        OptionSpec("audiences", default: "20", help: "Audiences the batches are spread over."),
        OptionSpec("brokers", environment: "KAFKA_BROKERS", default: "127.0.0.1:9092", help: "Bootstrap servers."),
    ])
let options = CommandLineEntry.parse(spec)
guard let destination = Destination(name: options.string("destination") ?? ""), let topic = TopicNames.batches(for: destination) else {
    CommandLineEntry.fail(spec.executable, "--destination must be x or tiktok", status: 64)
}
let connection = options.string("connection") ?? "bench"
let batches: Int
let users: Int
let audiences: Int
let kinds: [IdentifierType]
do {
    batches = try options.integer("batches", in: 1...10_000_000)
    users = try options.integer("users", in: 1...10_000)
    audiences = try options.integer("audiences", in: 1...100_000)
    kinds = Array([IdentifierType.email, .phone, .idfa].prefix(try options.integer("identifiers", in: 1...3)))
} catch {
    CommandLineEntry.fail(spec.executable, error.message, status: 64)
}
let logger = Logger(stage: "upload-bench", minimumLevel: .warning)
do {
    let producer = try KafkaProducer(configuration: KafkaConfiguration(properties: ["bootstrap.servers": options.string("brokers") ?? ""]), logger: logger)
    var records = OutgoingRecords()
    var user = 0
    for index in 0..<batches {
        let audience = "aud-\(index % audiences)"
        var batch = Batch(
            batchID: "bench-\(index)", connectionID: connection, audienceID: audience, audienceName: "Bench \(audience)", destination: destination,
            operation: .add, createdAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        for _ in 0..<users {
            let identifiers = kinds.map { HashedIdentifier(type: $0, sha256: SHA256Digest.hash("u\(user)/\($0.name)").bytes) }
            batch.users.append(BatchUser(userKey: "u\(user)", identifiers: identifiers))
            user += 1
        }
        records.append(topic: topic, key: Array("\(connection)/\(audience)".utf8)) { batch.serialize(appendingTo: &$0) }
        if records.count == 500 || index == batches - 1 {
            try await producer.deliver(records)
            records.removeAll()
        }
    }
    try await producer.shutdown()
} catch {
    CommandLineEntry.fail(spec.executable, String(describing: error), status: 1)
}
