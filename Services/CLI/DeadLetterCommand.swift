import Foundation
import Kafka
import Observability
import Stage
import Synchronization
import Wire

/// `cohortsync dlq list|replay`: what the stages refused (`cohortsync.dlq.v1`), and sending the replayable
/// part back once its cause is fixed.
///
/// Only the uploaders' letters are replayable: they carry the batch itself (digests, never a raw identifier)
/// and name the batches topic it came from. Upstream records are dead-lettered redacted, without their
/// payload, so those must be sent again by the CDP.
struct DeadLetterCommand {
    /// The stages that write dead letters, as `--stage` takes them.
    static let stages = ["ingest", "normalize", "batcher", "upload-x", "upload-tiktok"]

    /// Which letters a command acts on; an empty field matches every letter.
    struct Filter {
        var stage = ""
        var reason = ""
        var connection = ""
    }

    /// One letter and where it sits in the DLQ.
    struct Entry {
        let position: TopicPartition
        let offset: Int64
        let letter: DeadLetter
        /// The batch a replay would send, when the letter carries one.
        let batch: Batch?
    }

    let kafka: KafkaConfiguration
    let logger: Logger

    /// Every letter matching `filter`, oldest first.
    func letters(_ filter: Filter) async throws -> [Entry] {
        let partitions = try TopicScan.partitions(of: TopicNames.deadLetters, kafka: kafka, logger: logger)
        let found = Mutex<[Entry]>([])
        _ = try await PartitionReader.readAll(partitions, configuration: kafka, logger: logger) { partition, entries in
            var kept: [Entry] = []
            for entry in entries {
                // A record this version cannot read (or an empty one) is listed where it is in the DLQ, rather
                // than stopping the listing or vanishing.
                let letter = entry.value.flatMap { $0.isEmpty ? nil : try? DeadLetter(serializedBytes: $0) }
                    ?? DeadLetter(
                        stage: "-", reason: "unreadable-letter", source: SourcePosition(topic: partition.topic, partition: partition.partition, offset: entry.offset),
                        detail: "not a DeadLetter this version of cohortsync reads (empty, a tombstone, or written by a newer version)")
                let batch = letter.payloadType == Batch.protoName ? try? Batch(serializedBytes: letter.payload) : nil
                guard filter.stage.isEmpty || letter.stage == filter.stage, filter.reason.isEmpty || letter.reason == filter.reason,
                    filter.connection.isEmpty || batch?.connectionID == filter.connection
                else { continue }
                kept.append(Entry(position: partition, offset: entry.offset, letter: letter, batch: batch))
            }
            found.withLock { $0 += kept }
        }
        return found.withLock { $0 }.sorted { ($0.letter.occurredAtMilliseconds, $0.offset) < ($1.letter.occurredAtMilliseconds, $1.offset) }
    }

    static func table(_ entries: [Entry]) -> Table {
        var table = Table(columns: ["time", "stage", "reason", "code", "source", "connection", "users", "replayable", "detail"], numeric: ["users"])
        for entry in entries {
            let letter = entry.letter
            table.rows.append([
                Table.time(letter.occurredAtMilliseconds), letter.stage, letter.reason, Self.shown(letter.errorCode),
                "\(letter.source.topic)[\(letter.source.partition)]@\(letter.source.offset)", Self.shown(entry.batch?.connectionID),
                entry.batch.map { String($0.users.count) } ?? "-", replayTopic(entry) == nil ? "no" : "yes",
                Self.shown(letter.detail),
            ])
        }
        return table
    }

    private static func shown(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "-" }
        return text
    }

    /// Reasons whose cause an operator fixes outside the batch (the destination's outage, a connection
    /// missing from the configuration): the batch itself was fine, so sending it again can succeed. A batch
    /// refused user by user (`refused-by-destination`) or unreadable (`invalid-batch`) would be refused again.
    static let replayableReasons: Set<String> = ["retries-exhausted", "unknown-connection"]

    /// Where a replay sends the letter's batch: the batches topic it was read from. Nil when it carries no
    /// batch or its reason is not replayable.
    static func replayTopic(_ entry: Entry) -> String? {
        guard replayableReasons.contains(entry.letter.reason), let batch = entry.batch, let topic = TopicNames.batches(for: batch.destination),
            entry.letter.source.topic == topic
        else { return nil }
        return topic
    }

    /// What a replay did: batches sent per topic, and letters left out, per reason.
    struct ReplayOutcome {
        var sent: [String: Int] = [:]
        var skipped: [String: Int] = [:]
    }

    /// Sends each replayable letter's batch back to its batches topic, keyed `connection/audience` as the
    /// batcher keys it (so it queues behind that audience's other batches), cut to what the batcher still
    /// intends by its changelog now: an add keeps the users whose sent identifiers still include the batch's,
    /// a removal the users who no longer hold those identifiers, a deletion only an audience still deleted;
    /// nothing for an audience deleted since. So a replay never undoes what happened after the letter (an
    /// exit, a withdrawal, a deletion), and replaying the same letters twice sends nothing wrong.
    func replay(_ entries: [Entry], dryRun: Bool) async throws -> ReplayOutcome {
        var outcome = ReplayOutcome()
        let replayable = entries.filter { Self.replayTopic($0) != nil }
        outcome.skipped["not replayable"] = entries.count - replayable.count
        guard !replayable.isEmpty else { return outcome }
        let audiences = Set(replayable.compactMap { $0.batch.map { ChangelogSnapshot.AudienceKey(connection: $0.connectionID, audience: $0.audienceID) } })
        let changelog = try await ChangelogSnapshot.read(kafka: kafka, logger: logger, only: audiences)
        var out = OutgoingRecords()
        for entry in replayable {
            guard let topic = Self.replayTopic(entry), let original = entry.batch else { continue }
            guard let batch = Self.stillIntended(original, changelog) else {
                outcome.skipped["overtaken by later changes", default: 0] += 1
                continue
            }
            outcome.sent[topic, default: 0] += 1
            let trace = SourcePosition(topic: entry.position.topic, partition: entry.position.partition, offset: entry.offset)
            let headers = out.standardHeaders(for: Batch.self, trace: trace)
            out.append(batch, topic: topic, placement: .byKey, headers: headers, key: Array("\(batch.connectionID)/\(batch.audienceID)".utf8))
        }
        guard !dryRun, out.count > 0 else { return outcome }
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        try await producer.deliver(out)
        try await producer.shutdown()
        return outcome
    }

    /// `batch` cut to what the changelog still intends; nil when nothing of it is.
    static func stillIntended(_ batch: Batch, _ changelog: ChangelogSnapshot) -> Batch? {
        let audience = ChangelogSnapshot.AudienceKey(connection: batch.connectionID, audience: batch.audienceID)
        switch batch.operation {
        case .deleteAudience:
            return changelog.isDeleted(audience) ? batch : nil
        case .add, .remove:
            // A deleted audience takes no adds. A removal still goes: the audience may be kept at the destination
            // (`deleteOnUpstreamDelete` false) or its deletion may have failed, and the user may have withdrawn
            // consent; where the audience is gone, the uploader finds nothing to remove from and creates nothing.
            if batch.operation == .add && changelog.isDeleted(audience) { return nil }
            var cut = batch
            cut.users = batch.users.filter { user in
                let sent = changelog.sent[ChangelogSnapshot.MemberKey(audience: audience, user: user.userKey)] ?? []
                return batch.operation == .add ? Set(user.identifiers).isSubset(of: sent) : sent.isDisjoint(with: user.identifiers)
            }
            return cut.users.isEmpty ? nil : cut
        case .unspecified:
            return nil
        }
    }
}
