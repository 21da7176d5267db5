import JSON
import Kafka

/// Picks the format of an upstream record (by `content-type` header, else by its `type` field) and parses it.
enum UpstreamParser {
    /// Records over this size are refused (`too-large`) before any parsing.
    static let maxRecordBytes = 1 << 20

    /// Parses one record; the text of a member's fields goes to `text`, emptied first.
    static func parse(_ record: some KafkaRecord, text: inout FieldText) -> Result<UpstreamEvent, IngestRefusal> {
        text.removeAll()
        guard record.valueCount <= maxRecordBytes else {
            return .failure(IngestRefusal(reason: "too-large", detail: "\(record.valueCount) bytes; at most \(maxRecordBytes)"))
        }
        let document: JSONDocument
        do {
            document = try JSONReader.document(record.value)
        } catch {
            return .failure(IngestRefusal(reason: "invalid-json", detail: "the record is not JSON: \(error)"))
        }
        guard document.kind(document.root) == .object else {
            return .failure(IngestRefusal(reason: "invalid-json", detail: "the record is \(document.kindDescription(document.root)), not a JSON object"))
        }
        let fields = FieldReader(document, object: document.root)
        do {
            if record.headerString(named: "content-type")?.lowercased().contains("segment") == true {
                return .success(try SegmentEventParser.event(fields, text: &text))
            }
            switch try fields.string("type", bound: FieldBounds.word) {
            case "track", "identify": return .success(try SegmentEventParser.event(fields, text: &text))
            default: return .success(try NativeEventParser.event(fields, text: &text))
            }
        } catch {
            return .failure(error)
        }
    }
}
