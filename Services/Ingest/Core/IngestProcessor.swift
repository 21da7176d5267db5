import Config
import Foundation
import Hashing
import Kafka
import Observability
import Stage
import Synchronization
import Wire

/// Turns one upstream record into the records ingest produces, and accounts for it.
///
/// Member changes go to `members` keyed `audienceId/userKey` (placed by the partitioner); snapshot markers
/// and lifecycle events go to every partition of `members`, so each downstream partition sees them in order
/// with its members. Refused records go to the DLQ, redacted; events of audiences without a sync are dropped,
/// but for a membership change denying consent (forwarded without its identifiers, for the withdrawal).
public final class IngestProcessor: Sendable {
    /// What happened to one upstream record.
    public enum Outcome: Sendable, Equatable {
        case forwarded
        /// Snapshot markers and lifecycle events, written to every partition.
        case control
        case deadLettered(reason: String)
        case dropped(reason: String)
    }

    private let config: CohortSyncConfig
    private let memberPartitions: Int32
    private let recordLimit: RecordSizeLimit
    private let snapshots = Mutex(SnapshotTracker())
    private let metrics: MetricsRegistry
    private let logger: Logger
    private let now: @Sendable () -> Date

    public init(
        config: CohortSyncConfig, memberPartitions: Int32, recordLimit: RecordSizeLimit = RecordSizeLimit(), metrics: MetricsRegistry, logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.config = config
        self.memberPartitions = memberPartitions
        self.recordLimit = recordLimit
        self.metrics = metrics
        self.logger = logger
        self.now = now
    }

    /// Appends the records to produce for every record of `records` to `out`, in order, and counts each
    /// outcome in `counters` (once per batch).
    public func process(_ records: some Sequence<some KafkaRecord>, into out: inout OutgoingRecords, counting counters: IngestMetrics?) {
        var text = FieldText()
        var tally = IngestMetrics.Tally()
        let latest = latestEventTime()
        for record in records { tally.count(process(record, into: &out, text: &text, latestEventTime: latest)) }
        counters?.add(tally)
    }

    /// How far ahead of this ingest's clock an event time may be: clocks differ, but not by a day.
    static let eventTimeLead: Int64 = 86_400_000

    /// The latest event time taken now, in milliseconds since 1970 (read once per batch).
    func latestEventTime() -> Int64 { Int64(now().timeIntervalSince1970 * 1000) + Self.eventTimeLead }

    /// Appends the records to produce for `record` to `out`, and returns its outcome; `text` is the working
    /// memory for the record's fields, reused from record to record.
    ///
    /// Output over `recordLimit` dead-letters the input (`too-large`) before any state changes, so a
    /// snapshot never counts a member that was not forwarded. A membership timed after `latestEventTime`
    /// is dead-lettered: a far-future placeholder (`9999-12-31`) would outrank every later consent withdrawal;
    /// a removal so timed goes on, consent denied timed by this ingest's clock, an exit without a time.
    func process(_ record: some KafkaRecord, into out: inout OutgoingRecords, text: inout FieldText, latestEventTime: Int64) -> Outcome {
        let source = SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
        let event: UpstreamEvent
        switch UpstreamParser.parse(record, text: &text) {
        case .failure(let refusal):
            out.append(deadLetter(record, source, refusal))
            return .deadLettered(reason: refusal.reason)
        case .success(let parsed):
            event = parsed
        }
        // A membership change denying consent goes on even from an audience no connection syncs: consent is the
        // user's, and normalize withdraws the user from every synced audience. Its identifiers and any snapshot
        // id (free text) do not: the withdrawal needs the user key alone. A snapshot's listing does not go on: a large unsynced audience
        // would fan out all its denied users again with every snapshot.
        let synced = config.isSynced(audience: event.audienceID)
        guard synced || event.changeDenyingConsent else {
            return .dropped(reason: "no-sync")
        }
        let mark = out.mark
        let headers = out.standardHeaders(for: MemberRecord.self, trace: source)
        /// Keeps what was appended since `mark` if each record fits the limit, and only then applies the
        /// event's effect on snapshot state; otherwise replaces it with the input's dead letter.
        func admit(_ outcome: Outcome, then apply: () -> Void = {}) -> Outcome {
            if let detail = recordLimit.oversized(out, since: mark) {
                out.rollBack(to: mark)
                out.append(deadLetter(record, source, IngestRefusal(reason: "too-large", detail: detail)))
                return .deadLettered(reason: "too-large")
            }
            apply()
            return outcome
        }
        switch event {
        case .member(var member):
            if !synced {
                member.fields.identifiers = RawIdentifierRanges()
                member.fields.snapshotID = 0..<0
            }
            // Without a time of its own, its snapshot's begin or the upstream record's Kafka timestamp: the
            // batcher orders a consent withdrawal against the user's memberships in other audiences by event time.
            let isSnapshotMember = member.fields.action == .snapshotMember
            let timed = member.fields.eventTimeMilliseconds != 0
            if !timed {
                let begun = isSnapshotMember
                    ? snapshots.withLock { $0.beganAt(audienceID: member.audienceID, snapshotID: member.snapshotID, source: record.topicPartition) } : nil
                if let time = begun ?? record.timestampMilliseconds, time > 0 { member.fields.eventTimeMilliseconds = time }
                // A withdrawal with no time at all is timed by this ingest's clock, its arrival: the batcher keeps
                // only timed withdrawals, and one kept refuses memberships written before it that arrive later.
                if member.fields.consent == .denied && member.fields.eventTimeMilliseconds == 0 {
                    member.fields.eventTimeMilliseconds = latestEventTime - Self.eventTimeLead
                }
            }
            // Wherever the time came from: a producer's clock a year ahead outranks withdrawals as surely as a
            // placeholder date does. A removal is never lost to it: consent denied goes on timed by this ingest's
            // clock (so it still refuses memberships written before it, and a re-consent after it is taken), an
            // exit without a time (ordered by arrival, as exits are).
            if member.fields.eventTimeMilliseconds > latestEventTime {
                if member.fields.consent == .denied {
                    member.fields.eventTimeMilliseconds = latestEventTime - Self.eventTimeLead
                } else if member.fields.action == .exit {
                    member.fields.eventTimeMilliseconds = 0
                } else {
                    let detail =
                        timed
                        ? "timestamp: more than 24 hours after this ingest's clock; send the time the membership changed, or leave it out to use the record's Kafka timestamp"
                        : "timestamp is absent and the record's Kafka timestamp (or its snapshot_begin's) is more than 24 hours after this ingest's clock; fix the producer's clock or send timestamp"
                    let refusal = IngestRefusal(reason: "invalid-field", detail: detail)
                    out.append(deadLetter(record, source, refusal))
                    return .deadLettered(reason: refusal.reason)
                }
            }
            out.append(topic: TopicNames.members, placement: .byKey, headers: headers) { key in
                key.append(contentsOf: member.audienceID.utf8)
                key.append(UInt8(ascii: "/"))
                key.append(span: text.bytes.span.extracting(member.fields.userKey))
            } value: {
                MemberRecord.appendChange(member.fields, text: text.bytes.span, to: &$0)
            }
            return admit(.forwarded) {
                if !synced {
                    metrics.counter(
                        "cohortsync_ingest_unsynced_denials_total",
                        help: "Membership changes denying consent in audiences no connection syncs, forwarded for the withdrawal everywhere.").increment()
                }
                if isSnapshotMember {
                    snapshots.withLock { $0.member(audienceID: member.audienceID, snapshotID: member.snapshotID, source: record.topicPartition) }
                }
            }
        case .snapshotBegin(let audienceID, let snapshotID):
            // When it began goes downstream too: the batcher orders the members by it even when this replica
            // loses the begin (a restart) and times later members by their own records. A time out of bounds is unknown.
            let began = record.timestampMilliseconds.flatMap { $0 >= 1 && $0 <= latestEventTime ? $0 : nil }
            let marker = SnapshotMarker(
                audienceID: audienceID, snapshotID: snapshotID, phase: .begin, partitionCount: memberPartitions, beganAtMilliseconds: began ?? 0)
            everyPartition(.snapshot(marker), key: audienceID, headers: headers, into: &out)
            return admit(.control) {
                snapshots.withLock { $0.begin(audienceID: audienceID, snapshotID: snapshotID, source: record.topicPartition, at: record.timestampMilliseconds) }
            }
        case .snapshotEnd(let audienceID, let snapshotID, let declared):
            let verdict = snapshots.withLock { $0.verdict(audienceID: audienceID, snapshotID: snapshotID, declaredMembers: declared, source: record.topicPartition) }
            let marker = SnapshotMarker(
                audienceID: audienceID, snapshotID: snapshotID, phase: .end, declaredMembers: declared, receivedMembers: verdict.receivedMembers,
                complete: verdict.complete, partitionCount: memberPartitions)
            everyPartition(.snapshot(marker), key: audienceID, headers: headers, into: &out)
            return admit(.control) {
                _ = snapshots.withLock { $0.end(audienceID: audienceID, snapshotID: snapshotID, declaredMembers: declared, source: record.topicPartition) }
                if !verdict.complete {
                    metrics.counter("cohortsync_ingest_snapshots_incomplete_total", help: "Snapshots that ended incomplete and will cause no removals.").increment()
                    logger.warning(
                        "snapshot-incomplete: the snapshot will cause no removals",
                        [
                            ("audience", .string(audienceID)), ("snapshot_ref", .string(SHA256Digest.logReference(snapshotID))), ("declared", .int(declared)),
                            ("received", .int(verdict.receivedMembers)),
                        ])
                }
            }
        case .lifecycle(let lifecycle):
            everyPartition(.lifecycle(lifecycle), key: lifecycle.audienceID, headers: headers, into: &out)
            return admit(.control)
        }
    }

    /// Partitions of the upstream topics were revoked: their open snapshots can no longer complete here.
    public func revoked(_ partitions: [TopicPartition]) {
        snapshots.withLock { $0.forget(sources: Set(partitions)) }
    }

    /// Appends `value` once per partition of `members`, encoded once.
    private func everyPartition(_ value: MemberRecord, key: String, headers: OutgoingRecords.HeaderSet, into out: inout OutgoingRecords) {
        let bytes = value.serializedBytes()
        for partition in 0..<memberPartitions {
            out.append(topic: TopicNames.members, placement: .partition(partition), headers: headers) { $0.append(contentsOf: key.utf8) } value: {
                $0.append(contentsOf: bytes)
            }
        }
    }

    private func deadLetter(_ record: some KafkaRecord, _ source: SourcePosition, _ refusal: IngestRefusal) -> DeadLetter {
        DeadLetter(
            stage: "ingest", reason: refusal.reason, source: source, redactedExcerpt: ExcerptRedactor.excerpt(record.value),
            errorCode: refusal.reason, detail: refusal.detail, occurredAtMilliseconds: Int64(now().timeIntervalSince1970 * 1000))
    }
}
