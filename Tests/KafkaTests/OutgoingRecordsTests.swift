@testable import Kafka
import Testing

/// The output buffer's shared header values: written once, given to many records, and never left pointing at
/// bytes a rollback removed.
@Suite("Outgoing records: shared header values")
struct OutgoingRecordsTests {
    /// Appends a record of value `value` with a shared `content-type` and its own `trace`.
    func append(_ value: String, trace: String, to out: inout OutgoingRecords) {
        let start = out.headerPosition
        out.addHeader("content-type", shared: "v1") { $0.append(contentsOf: "application/x-protobuf".utf8) }
        out.addHeader("trace", string: trace)
        out.append(topic: "t", headers: out.headerSet(from: start), key: nil) { $0.append(contentsOf: value.utf8) }
    }

    func headers(_ record: ProducerRecord) -> [String] {
        record.headers.map { "\($0.name)=\(String(decoding: $0.value ?? [], as: UTF8.self))" }
    }

    @Test("a shared value is written once and every record carries it")
    func writtenOnce() throws {
        var out = OutgoingRecords()
        append("a", trace: "t/0/1", to: &out)
        let afterFirst = out.bytes.count
        append("b", trace: "t/0/2", to: &out)
        #expect(out.bytes.count - afterFirst == "b".utf8.count + "t/0/2".utf8.count, "the second record wrote only its own bytes")
        let records = out.records
        try #require(records.count == 2)
        #expect(headers(records[0]) == ["content-type=application/x-protobuf", "trace=t/0/1"])
        #expect(headers(records[1]) == ["content-type=application/x-protobuf", "trace=t/0/2"])
        #expect(out.shape(at: 1).headerBytes == "content-type".utf8.count + "application/x-protobuf".utf8.count + "trace".utf8.count + 5)
    }

    @Test("a rollback that removes a shared value's bytes makes the next header write it again")
    func rolledBack() throws {
        var out = OutgoingRecords()
        let mark = out.mark
        append("refused", trace: "t/0/1", to: &out)
        out.rollBack(to: mark)
        // Bytes another record writes where the shared value was.
        out.append(topic: "other", key: nil) { $0.append(contentsOf: "0123456789abcdefghijklmnopqrstuvwxyz".utf8) }
        append("kept", trace: "t/0/2", to: &out)
        let records = out.records
        try #require(records.count == 2)
        #expect(headers(records[1]) == ["content-type=application/x-protobuf", "trace=t/0/2"])
        #expect(records[1].value == Array("kept".utf8))
    }

    @Test("emptied for the next batch, the buffer writes the shared value again")
    func emptied() throws {
        var out = OutgoingRecords()
        append("a", trace: "t/0/1", to: &out)
        out.removeAll()
        out.append(topic: "other", key: nil) { $0.append(contentsOf: "0123456789abcdefghijklmnopqrstuvwxyz".utf8) }
        append("b", trace: "t/0/2", to: &out)
        let records = out.records
        try #require(records.count == 2)
        #expect(headers(records[1]) == ["content-type=application/x-protobuf", "trace=t/0/2"])
    }

    @Test("values shared under one name and different variants stay apart")
    func variants() throws {
        var out = OutgoingRecords()
        for variant in ["A", "B", "A"] {
            let start = out.headerPosition
            out.addHeader("content-type", shared: variant) { $0.append(contentsOf: "type-\(variant)".utf8) }
            out.append(topic: "t", headers: out.headerSet(from: start), key: nil) { _ in }
        }
        let records = out.records
        try #require(records.count == 3)
        #expect(records.map(headers) == [["content-type=type-A"], ["content-type=type-B"], ["content-type=type-A"]])
    }
}
