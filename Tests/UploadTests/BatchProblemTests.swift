@testable import Upload
import Testing
import Wire

/// What an uploader refuses to act on before any call: a batch no batcher writes.
@Suite("Upload: batches refused before any call")
struct BatchProblemTests {
    static let good = Batch(batchID: "b1", connectionID: "x-main", audienceID: "aud", audienceName: "High value", operation: .add)

    @Test("a well-formed batch has no problem; texts over the bounds the batcher keeps are refused, naming the field")
    func textBounds() {
        #expect(BatchUpload.problem(Self.good) == nil)
        var long = Self.good
        long.audienceID = String(repeating: "a", count: TextBounds.audienceID + 1)
        #expect(BatchUpload.problem(long) == "audience_id has 257 bytes; at most 256")
        long = Self.good
        long.audienceName = String(repeating: "n", count: TextBounds.audienceName + 1)
        #expect(BatchUpload.problem(long) == "audience_name has 1025 bytes; at most 1024")
        long = Self.good
        long.connectionID = String(repeating: "c", count: 600_000)
        #expect(BatchUpload.problem(long) == "connection_id has 600000 bytes; at most 256")
        var atBound = Self.good
        atBound.audienceID = String(repeating: "a", count: TextBounds.audienceID)
        atBound.audienceName = String(repeating: "n", count: TextBounds.audienceName)
        #expect(BatchUpload.problem(atBound) == nil)
    }

    @Test("a scope, operation or destination number this version does not know is refused, never read as unspecified", arguments: [
        (9, "scope 99"), (6, "operation 99"), (5, "destination 99"),
    ])
    func unknownEnums(_ field: Int, _ named: String) throws {
        var writer = ProtoWriter()
        Self.good.encode(to: &writer)
        writer.int32(field, 99)
        let batch = try Batch(serializedBytes: writer.bytes)
        #expect(batch.unknownEnums.map(\.description) == [named])
        #expect(try Batch(serializedBytes: batch.serializedBytes()) == batch, "written again, it says the same")
        #expect(BatchUpload.problem(batch)?.hasPrefix("\(named) is unknown to this version") == true)
        #expect(BatchUpload.problem(try Batch(serializedBytes: Self.good.serializedBytes())) == nil)
    }
}
