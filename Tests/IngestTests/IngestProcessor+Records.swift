@testable import IngestCore
import Kafka

extension IngestProcessor {
    /// What one input yields, as records to inspect.
    func process(_ record: ConsumerRecord) -> (records: [ProducerRecord], outcome: Outcome) {
        var out = OutgoingRecords()
        let outcome = process(record, into: &out)
        return (out.records, outcome)
    }
}
