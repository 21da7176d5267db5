import Config
import Foundation
import Identity
import Kafka
import Stage
import Wire

/// Reads `members` records and appends the `hashed` records derived from each, counting outcomes.
///
/// Everything derived from an input record goes to the same partition index it was read from, never
/// re-partitioned by key, so markers stay behind the members they follow (DESIGN "Delivery semantics").
/// Consent withdrawals for other audiences are placed by their own key, where ingest would have put them.
public final class NormalizeProcessor: Sendable {
    public enum Outcome: Sendable, Equatable {
        case hashed
        case refused(reason: String)
        case control
        case deadLettered(reason: String)
    }

    private let normalizer: MemberNormalizer
    private let recordLimit: RecordSizeLimit
    private let now: @Sendable () -> Date

    public init(config: CohortSyncConfig, recordLimit: RecordSizeLimit = RecordSizeLimit(), now: @escaping @Sendable () -> Date = Date.init) {
        normalizer = MemberNormalizer(config: config)
        self.recordLimit = recordLimit
        self.now = now
    }

    /// Appends the `hashed` records of every record of `records` to `out`, in order, and counts each
    /// outcome in `counters` (once per batch).
    public func process(_ records: some Sequence<some KafkaRecord>, into out: inout OutgoingRecords, counting counters: NormalizeMetrics?) {
        var workspace = NormalizeWorkspace()
        var tally = NormalizeMetrics.Tally()
        for record in records {
            let (outcome, refusals) = process(record, into: &out, workspace: &workspace)
            tally.count(outcome, identifierRefusals: refusals)
        }
        counters?.add(tally)
    }

    /// Appends the `hashed` records for `record` to `out`, or one dead letter (`too-large`) when any of them
    /// would exceed `recordLimit`: a record that cannot be produced is that input's refusal, never the stage's failure.
    func process(
        _ record: some KafkaRecord, into out: inout OutgoingRecords, workspace: inout NormalizeWorkspace
    ) -> (outcome: Outcome, identifierRefusals: [IdentityRefusal]) {
        let mark = out.mark
        let result = derive(record, into: &out, workspace: &workspace)
        guard let detail = recordLimit.oversized(out, since: mark) else { return result }
        out.rollBack(to: mark)
        out.append(deadLetter(position(of: record), reason: "too-large", detail: detail))
        return (.deadLettered(reason: "too-large"), [])
    }

    private func position(of record: some KafkaRecord) -> SourcePosition {
        SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
    }

    private func derive(
        _ record: some KafkaRecord, into out: inout OutgoingRecords, workspace: inout NormalizeWorkspace
    ) -> (outcome: Outcome, identifierRefusals: [IdentityRefusal]) {
        let input: MemberRecordView
        do {
            input = try MemberRecordView(serializedBytes: record.value)
        } catch {
            out.append(deadLetter(position(of: record), reason: "invalid-record", detail: error.description))
            return (.deadLettered(reason: "invalid-record"), [])
        }
        // The trace names the upstream record; copied as read, or this record's position if it carries none.
        let headers =
            if let trace = record.header(named: RecordHeaders.traceName).flatMap({ $0 }), RecordHeaders.isTrace(trace) {
                out.standardHeaders(for: HashedRecord.self, traceValue: trace)
            } else {
                out.standardHeaders(for: HashedRecord.self, trace: position(of: record))
            }
        let sameSpot = ProducerRecord.Placement.partition(record.partition)
        switch input {
        case .snapshot(let marker):
            out.append(HashedRecord.snapshot(marker), topic: TopicNames.hashed, placement: sameSpot, headers: headers, key: record.key)
            return (.control, [])
        case .lifecycle(let lifecycle):
            out.append(HashedRecord.lifecycle(lifecycle), topic: TopicNames.hashed, placement: sameSpot, headers: headers, key: record.key)
            return (.control, [])
        case .change(let change) where change.fields.action == .unspecified:
            // No action, or one a newer writer added that this version reads as unspecified: never guessed as an
            // enter, which could put back a user an exit-like action meant to remove.
            out.append(deadLetter(
                position(of: record), reason: "invalid-record",
                detail: "\(MemberChange.protoName).action is unspecified or unknown to this version; the member was not forwarded"))
            return (.deadLettered(reason: "invalid-record"), [])
        case .change(let change) where change.fields.unknownConsent != nil && change.fields.action != .exit && change.fields.action != .consentWithdrawn:
            // A consent value a newer writer added may restrict: a change that would add the user is never read as
            // allowed nor guessed as denied. An exit or a withdrawal removes whatever the consent, so it goes on.
            out.append(deadLetter(
                position(of: record), reason: "invalid-record",
                detail: "\(MemberChange.protoName).consent is \(change.fields.unknownConsent ?? 0), unknown to this version; the member was not added: upgrade normalize, then send the member again upstream"))
            return (.deadLettered(reason: "invalid-record"), [])
        case .change(let change):
            let result = normalizer.append(change, headers: headers, sameSpot: sameSpot, into: &out, workspace: &workspace)
            if let reason = result.refusal { return (.refused(reason: reason), result.identifierRefusals) }
            return (.hashed, result.identifierRefusals)
        }
    }

    /// A DLQ record for an undecodable input. It carries no payload: the input may hold raw identifiers.
    private func deadLetter(_ source: SourcePosition, reason: String, detail: String) -> DeadLetter {
        DeadLetter(
            stage: "normalize", reason: reason, source: source, errorCode: reason, detail: detail,
            occurredAtMilliseconds: Int64(now().timeIntervalSince1970 * 1000))
    }
}
