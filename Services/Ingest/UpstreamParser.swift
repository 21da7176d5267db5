import Foundation
import Kafka

/// Picks the format of an upstream record (by `content-type` header, else by its `type` field) and parses it.
enum UpstreamParser {
    /// Records over this size are refused (`too-large`) before any parsing.
    static let maxRecordBytes = 1 << 20

    static func parse(_ record: ConsumerRecord) -> Result<UpstreamEvent, IngestRefusal> {
        guard record.value.count <= maxRecordBytes else {
            return .failure(IngestRefusal(reason: "too-large", detail: "\(record.value.count) bytes; at most \(maxRecordBytes)"))
        }
        let data = Data(record.value)
        let contentType = record.headers.string(named: "content-type")?.lowercased() ?? ""
        if contentType.contains("segment") { return SegmentEventParser.parse(data) }
        let native: NativeEventParser.Payload
        do {
            native = try JSONDecoder().decode(NativeEventParser.Payload.self, from: data)
        } catch let error as DecodingError {
            // A Segment event may carry fields the native shape types differently; try it before refusing.
            if case .success(let event) = SegmentEventParser.parse(data) { return .success(event) }
            return .failure(NativeEventParser.describe(error))
        } catch {
            return .failure(IngestRefusal(reason: "invalid-json", detail: "the record is not JSON"))
        }
        if native.type == "track" || native.type == "identify" { return SegmentEventParser.parse(data) }
        return NativeEventParser.event(from: native)
    }
}
