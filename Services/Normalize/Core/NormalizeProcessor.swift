import Config
import Foundation
import Kafka
import Stage
import Wire

/// Reads one `members` record and returns the `hashed` records derived from it, with its outcome.
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

        var label: String {
            switch self {
            case .hashed: "hashed"
            case .refused: "refused"
            case .control: "control"
            case .deadLettered: "dead-lettered"
            }
        }
    }

    private let normalizer: MemberNormalizer
    private let recordLimit: RecordSizeLimit
    private let now: @Sendable () -> Date

    public init(config: CohortSyncConfig, recordLimit: RecordSizeLimit = RecordSizeLimit(), now: @escaping @Sendable () -> Date = Date.init) {
        normalizer = MemberNormalizer(config: config)
        self.recordLimit = recordLimit
        self.now = now
    }

    /// Appends the `hashed` records for `record` to `out`, or one dead letter (`too-large`) when any of them
    /// would exceed `recordLimit`: a record that cannot be produced is that input's refusal, never the stage's failure.
    public func process(_ record: some KafkaRecord, into out: inout OutgoingRecords) -> (outcome: Outcome, identifierRefusals: [String]) {
        let mark = out.mark
        let result = derive(record, into: &out)
        guard let detail = recordLimit.oversized(out, since: mark) else { return result }
        out.rollBack(to: mark)
        out.append(deadLetter(position(of: record), reason: "too-large", detail: detail))
        return (.deadLettered(reason: "too-large"), [])
    }

    private func position(of record: some KafkaRecord) -> SourcePosition {
        SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
    }

    private func derive(_ record: some KafkaRecord, into out: inout OutgoingRecords) -> (outcome: Outcome, identifierRefusals: [String]) {
        let input: MemberRecord
        do {
            input = try MemberRecord(serializedBytes: record.value)
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
        case .change(let change):
            let result = normalizer.normalize(change)
            for derived in result.derived {
                out.append(
                    HashedRecord.member(derived.member), topic: TopicNames.hashed, placement: derived.sameAudience ? sameSpot : .byKey, headers: headers,
                    audienceID: derived.member.audienceID, userKey: derived.member.userKey)
            }
            let refusals = result.identifierRefusals.map(\.rawValue)
            if let reason = result.refusal { return (.refused(reason: reason), refusals) }
            return (.hashed, refusals)
        }
    }

    /// A DLQ record for an undecodable input. It carries no payload: the input may hold raw identifiers.
    private func deadLetter(_ source: SourcePosition, reason: String, detail: String) -> DeadLetter {
        DeadLetter(
            stage: "normalize", reason: reason, source: source, errorCode: reason, detail: detail,
            occurredAtMilliseconds: Int64(now().timeIntervalSince1970 * 1000))
    }
}
