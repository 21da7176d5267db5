import JSON
import Kafka

/// Picks the format of an upstream record (by `content-type` header, else by its `type` field) and parses it.
enum UpstreamParser {
    /// Records over this size are refused (`too-large`) before any parsing.
    static let maxRecordBytes = 1 << 20

    /// Parses one record; the text of a member's fields goes to `text`, emptied first.
    ///
    /// A native record is read first by `NativeRecordScanner`, in one pass; whatever it leaves (Segment
    /// events, escapes, other fields, anything refused while reading) is read by the general path. Both hand
    /// their fields to the same checks (`NativeEventParser`), so a record is accepted or refused alike.
    static func parse(_ record: some KafkaRecord, text: inout FieldText) -> Result<UpstreamEvent, IngestRefusal> {
        text.removeAll()
        guard record.valueCount <= maxRecordBytes else {
            return .failure(IngestRefusal(reason: "too-large", detail: "\(record.valueCount) bytes; at most \(maxRecordBytes)"))
        }
        let value = record.value
        let isSegment = isSegment(record)
        if !isSegment, let fields = NativeRecordScanner.fields(of: value, text: &text),
            !text.equals(fields.type, "track"), !text.equals(fields.type, "identify")
        {
            return Result { () throws(IngestRefusal) in try NativeEventParser.event(fields, text: &text) }
        }
        text.removeAll()
        return parseInGeneral(value, isSegment: isSegment, text: &text)
    }

    /// Parses a record's value through the general JSON reader alone: the reference the scanner is held to.
    static func parseInGeneral(_ value: [UInt8], isSegment: Bool, text: inout FieldText) -> Result<UpstreamEvent, IngestRefusal> {
        let document: JSONDocument
        do {
            document = try JSONReader.document(value)
        } catch {
            return .failure(IngestRefusal(reason: "invalid-json", detail: "the record is not JSON: \(error)"))
        }
        guard document.kind(document.root) == .object else {
            return .failure(IngestRefusal(reason: "invalid-json", detail: "the record is \(document.kindDescription(document.root)), not a JSON object"))
        }
        let fields = FieldReader(document, object: document.root)
        do {
            if isSegment {
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

    /// Whether the record's `content-type` header says it is a Segment event.
    static func isSegment(_ record: some KafkaRecord) -> Bool {
        record.headerString(named: "content-type")?.lowercased().contains("segment") == true
    }
}
