import Kafka
@testable import NormalizeCore

extension NormalizeProcessor {
    /// What one input yields, as records to inspect.
    func process(_ record: ConsumerRecord) -> (records: [ProducerRecord], outcome: Outcome, identifierRefusals: [String]) {
        var out = OutgoingRecords()
        let (outcome, refusals) = process(record, into: &out)
        return (out.records, outcome, refusals)
    }
}
