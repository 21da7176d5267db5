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
final class NormalizeProcessor: Sendable {
    enum Outcome: Sendable, Equatable {
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

    init(config: CohortSyncConfig, recordLimit: RecordSizeLimit = RecordSizeLimit(), now: @escaping @Sendable () -> Date = Date.init) {
        normalizer = MemberNormalizer(config: config)
        self.recordLimit = recordLimit
        self.now = now
    }

    /// The `hashed` records for `record`, or one dead letter (`too-large`) when any of them would exceed
    /// `recordLimit`: a record that cannot be produced is that input's refusal, never the stage's failure.
    func process(_ record: ConsumerRecord) -> (records: [ProducerRecord], outcome: Outcome, identifierRefusals: [String]) {
        let result = derive(record)
        guard let detail = recordLimit.oversized(result.records) else { return result }
        let position = SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
        return ([deadLetter(position, reason: "too-large", detail: detail)], .deadLettered(reason: "too-large"), [])
    }

    private func derive(_ record: ConsumerRecord) -> (records: [ProducerRecord], outcome: Outcome, identifierRefusals: [String]) {
        let position = SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
        let trace = record.headers.string(named: RecordHeaders.traceName).flatMap(RecordHeaders.parseTrace) ?? position
        let headers = RecordHeaders.kafkaHeaders(for: HashedRecord.self, trace: trace)
        let input: MemberRecord
        do {
            input = try MemberRecord(serializedBytes: record.value)
        } catch {
            return ([deadLetter(position, reason: "invalid-record", detail: error.description)], .deadLettered(reason: "invalid-record"), [])
        }
        func sameSpot(_ value: HashedRecord) -> ProducerRecord {
            ProducerRecord(topic: TopicNames.hashed, key: record.key, value: value.serializedBytes(), headers: headers, placement: .partition(record.partition))
        }
        switch input {
        case .snapshot(let marker):
            return ([sameSpot(.snapshot(marker))], .control, [])
        case .lifecycle(let lifecycle):
            return ([sameSpot(.lifecycle(lifecycle))], .control, [])
        case .change(let change):
            let result = normalizer.normalize(change)
            let records = result.derived.map { derived -> ProducerRecord in
                let value = HashedRecord.member(derived.member).serializedBytes()
                let key = Array("\(derived.member.audienceID)/\(derived.member.userKey)".utf8)
                return ProducerRecord(
                    topic: TopicNames.hashed, key: key, value: value, headers: headers,
                    placement: derived.sameAudience ? .partition(record.partition) : .byKey)
            }
            let refusals = result.identifierRefusals.map(\.rawValue)
            if let reason = result.refusal { return (records, .refused(reason: reason), refusals) }
            return (records, .hashed, refusals)
        }
    }

    /// A DLQ record for an undecodable input. It carries no payload: the input may hold raw identifiers.
    private func deadLetter(_ source: SourcePosition, reason: String, detail: String) -> ProducerRecord {
        let letter = DeadLetter(
            stage: "normalize", reason: reason, source: source, errorCode: reason, detail: detail,
            occurredAtMilliseconds: Int64(now().timeIntervalSince1970 * 1000))
        return letter.producerRecord
    }
}
