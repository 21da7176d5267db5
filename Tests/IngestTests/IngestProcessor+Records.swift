@testable import IngestCore
import Kafka
import Wire

extension IngestProcessor {
    /// What one input yields, as records to inspect.
    func process(_ record: ConsumerRecord) -> (records: [ProducerRecord], outcome: Outcome) {
        var out = OutgoingRecords()
        var text = FieldText()
        let outcome = process(record, into: &out, text: &text, latestEventTime: latestEventTime())
        return (out.records, outcome)
    }
}

/// An upstream event with its member as an owned `MemberChange`, as the tests compare them.
enum ParsedEvent: Equatable {
    case member(MemberChange)
    case snapshotBegin(audienceID: String, snapshotID: String)
    case snapshotEnd(audienceID: String, snapshotID: String, declaredMembers: Int64)
    case lifecycle(AudienceLifecycle)

    var audienceID: String {
        switch self {
        case .member(let change): change.audienceID
        case .snapshotBegin(let audience, _), .snapshotEnd(let audience, _, _): audience
        case .lifecycle(let lifecycle): lifecycle.audienceID
        }
    }
}

extension UpstreamParser {
    /// Parses one record on its own and makes its member an owned `MemberChange`.
    static func parse(_ record: some KafkaRecord) -> Result<ParsedEvent, IngestRefusal> {
        var text = FieldText()
        return owned(parse(record, text: &text), text)
    }

    /// As `parse(_:)`, through the general path alone (no `NativeRecordScanner`).
    static func parseInGeneral(_ record: some KafkaRecord) -> Result<ParsedEvent, IngestRefusal> {
        var text = FieldText()
        return owned(parseInGeneral(record.value, isSegment: isSegment(record), text: &text), text)
    }

    private static func owned(_ result: Result<UpstreamEvent, IngestRefusal>, _ text: FieldText) -> Result<ParsedEvent, IngestRefusal> {
        result.map { event in
            switch event {
            case .member(let member):
                // The ids ingest keeps as strings must say what the fields it writes say.
                let change = MemberChange(member.fields, text: text.bytes)
                precondition(change.audienceID == member.audienceID && change.snapshotID == member.snapshotID, "ids out of step with the fields")
                return .member(change)
            case .snapshotBegin(let audienceID, let snapshotID): return .snapshotBegin(audienceID: audienceID, snapshotID: snapshotID)
            case .snapshotEnd(let audienceID, let snapshotID, let declared):
                return .snapshotEnd(audienceID: audienceID, snapshotID: snapshotID, declaredMembers: declared)
            case .lifecycle(let lifecycle): return .lifecycle(lifecycle)
            }
        }
    }
}
