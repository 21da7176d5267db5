import Testing
import Wire

@Suite("Wire codec round trips")
struct RoundTripTests {
    private func roundTrip<M: ProtoMessage>(_ value: M) throws -> M {
        try M(serializedBytes: value.serializedBytes())
    }

    @Test("every message type decodes to what was encoded")
    func everyMessage() throws {
        #expect(try roundTrip(WireSamples.source) == WireSamples.source)
        #expect(try roundTrip(WireSamples.raw) == WireSamples.raw)
        #expect(try roundTrip(WireSamples.change) == WireSamples.change)
        #expect(try roundTrip(WireSamples.marker) == WireSamples.marker)
        #expect(try roundTrip(WireSamples.lifecycle) == WireSamples.lifecycle)
        #expect(try roundTrip(MemberRecord.change(WireSamples.change)) == .change(WireSamples.change))
        #expect(try roundTrip(MemberRecord.snapshot(WireSamples.marker)) == .snapshot(WireSamples.marker))
        #expect(try roundTrip(MemberRecord.lifecycle(WireSamples.lifecycle)) == .lifecycle(WireSamples.lifecycle))
        #expect(try roundTrip(WireSamples.member) == WireSamples.member)
        #expect(try roundTrip(HashedRecord.member(WireSamples.member)) == .member(WireSamples.member))
        #expect(try roundTrip(HashedRecord.snapshot(WireSamples.marker)) == .snapshot(WireSamples.marker))
        #expect(try roundTrip(HashedRecord.lifecycle(WireSamples.lifecycle)) == .lifecycle(WireSamples.lifecycle))
        #expect(try roundTrip(WireSamples.batch) == WireSamples.batch)
        #expect(try roundTrip(WireSamples.result) == WireSamples.result)
        #expect(try roundTrip(WireSamples.deadLetter) == WireSamples.deadLetter)
        #expect(try roundTrip(WireSamples.mapping) == WireSamples.mapping)
        #expect(try roundTrip(HashedRecord.hold(WireSamples.hold)) == .hold(WireSamples.hold))
        #expect(try roundTrip(BatcherState.member(WireSamples.state)) == .member(WireSamples.state))
        #expect(try roundTrip(BatcherState.audience(WireSamples.audienceState)) == .audience(WireSamples.audienceState))
        #expect(try roundTrip(BatcherState.withdrawal(WireSamples.withdrawal)) == .withdrawal(WireSamples.withdrawal))
        #expect(try roundTrip(WireSamples.state) == WireSamples.state)
    }

    @Test("default values are omitted, so an empty message is zero bytes")
    func proto3Defaults() {
        #expect(MemberState().serializedBytes().isEmpty)
        #expect(SnapshotMarker().serializedBytes().isEmpty)
    }

    @Test("a oneof body is present even when it holds only defaults")
    func emptyOneofBody() throws {
        let record = HashedRecord.snapshot(SnapshotMarker())
        #expect(record.serializedBytes() == [0x12, 0x00])
        #expect(try roundTrip(record) == record)
    }

    @Test("an envelope without a body is refused with missing-body")
    func missingBody() {
        let error = #expect(throws: WireError.self) { try HashedRecord(serializedBytes: []) }
        #expect(error?.code == .missingBody)
    }

    @Test("fields this version does not know are skipped, whatever their wire type")
    func unknownFieldsSkipped() throws {
        var bytes = WireSamples.member.serializedBytes()
        bytes += [0xA0, 0x06, 0x96, 0x01]  // field 100, varint 150
        bytes += [0xA9, 0x06] + [UInt8](repeating: 0xAB, count: 8)  // field 101, fixed64
        bytes += [0xB2, 0x06, 0x03, 0x61, 0x62, 0x63]  // field 102, length-delimited "abc"
        bytes += [0xBD, 0x06, 1, 2, 3, 4]  // field 103, fixed32
        #expect(try HashedMember(serializedBytes: bytes) == WireSamples.member)
        // An unknown field inside a nested message is skipped too.
        var nested = ProtoWriter()
        nested.bytes(1, WireSamples.member.serializedBytes() + [0xA0, 0x06, 0x01])
        #expect(try HashedRecord(serializedBytes: nested.bytes) == .member(WireSamples.member))
    }

    @Test("an enum number this version does not know reads as unspecified")
    func unknownEnumValue() throws {
        var writer = ProtoWriter()
        writer.string(1, "aud")
        writer.int32(3, 42)
        #expect(try AudienceLifecycle(serializedBytes: writer.bytes) == AudienceLifecycle(audienceID: "aud", event: .unspecified))
    }

    @Test("truncated bytes and wrong wire types fail with the field named")
    func malformed() {
        let bytes = WireSamples.change.serializedBytes()
        let truncated = #expect(throws: WireError.self) { try MemberChange(serializedBytes: Array(bytes.dropLast(3))) }
        #expect(truncated?.code == .truncated)
        let wrongType = #expect(throws: WireError.self) { try MemberChange(serializedBytes: [0x08, 0x01]) }  // audience_id as varint
        #expect(wrongType?.code == .wrongWireType)
        #expect(wrongType?.message.contains("audience_id") == true)
        let group = #expect(throws: WireError.self) { try MemberChange(serializedBytes: [0xA3, 0x06]) }  // start group
        #expect(group?.code == .wrongWireType)
        let badUTF8 = #expect(throws: WireError.self) { try MemberChange(serializedBytes: [0x0A, 0x02, 0xC3, 0x28]) }
        #expect(badUTF8?.code == .invalidUTF8)
        let longVarint = #expect(throws: WireError.self) { try SnapshotMarker(serializedBytes: [0x20] + [UInt8](repeating: 0xFF, count: 11) + [0x01]) }
        #expect(longVarint?.code == .malformedVarint)
    }

    @Test("headers name the message type and trace back to the source; the trace survives topics with slashes")
    func headers() {
        let headers = RecordHeaders(for: HashedRecord.self, trace: SourcePosition(topic: "cdp/eu.audiences", partition: 4, offset: 17))
        #expect(headers.pairs.map(\.value) == ["application/x-protobuf; message=cohortsync.v1.HashedRecord", "1", "cdp/eu.audiences/4/17"])
        #expect(RecordHeaders.parseTrace("cdp.eu.audiences/4/17") == SourcePosition(topic: "cdp.eu.audiences", partition: 4, offset: 17))
        #expect(RecordHeaders.parseTrace("nonsense") == nil)
        #expect(RecordHeaders.messageName(inContentType: headers.contentType) == "cohortsync.v1.HashedRecord")
        #expect(RecordHeaders.messageName(inContentType: "application/json") == nil)
    }

    @Test("sub-messages of 128 bytes and more widen their length in place; encoding into a buffer appends the same bytes")
    func longSubMessages() throws {
        for length in [0, 100, 127, 128, 300, 20_000] {
            var member = WireSamples.member
            member.userKey = String(repeating: "k", count: length)
            let record = HashedRecord.member(member)
            let bytes = record.serializedBytes()
            #expect(try HashedRecord(serializedBytes: bytes) == record, "user key of \(length) bytes")
            var buffer: [UInt8] = [1, 2, 3]
            record.serialize(appendingTo: &buffer)
            #expect(buffer == [1, 2, 3] + bytes)
        }
    }

    @Test("headers written into a buffer are the bytes of the header strings; the byte check of a trace agrees with parsing it")
    func headerBytes() {
        let trace = SourcePosition(topic: "cdp/eu.audiences", partition: 4, offset: 9_007_199_254_740_993)
        let headers = RecordHeaders(for: HashedRecord.self, trace: trace)
        var contentType: [UInt8] = []
        RecordHeaders.writeContentType(of: HashedRecord.self, to: &contentType)
        #expect(contentType == Array(headers.contentType.utf8))
        var written: [UInt8] = [0xFF]
        RecordHeaders.writeTrace(trace, to: &written)
        #expect(written == [0xFF] + Array(headers.pairs[2].value.utf8), "appends after what the buffer held")
        var zero: [UInt8] = []
        RecordHeaders.writeTrace(SourcePosition(topic: "t", partition: 0, offset: 0), to: &zero)
        #expect(zero == Array("t/0/0".utf8))
        for (partition, offset) in [(Int32(9), Int64(10)), (10, 99), (99, 100), (Int32.max, Int64.max), (-1, Int64.min), (1_000_000, 999_999_999_999)] {
            var decimal: [UInt8] = []
            RecordHeaders.writeTrace(SourcePosition(topic: "t", partition: partition, offset: offset), to: &decimal)
            #expect(String(decoding: decimal, as: UTF8.self) == "t/\(partition)/\(offset)")
        }
        let valid = ["cdp.eu.audiences/4/17", "t/0/0", "T_1-x.y/2147483647/9223372036854775807", String(repeating: "t", count: 249) + "/1/2"]
        let invalid = [
            "cdp/eu.audiences/4/17", "a/b/1/2", "nonsense", "t/1/", "/1/2", "t/x/2", "t/1/2x", "", "1/2", "t/-1/5", "t/2147483648/1",
            "t/0/9223372036854775808", "t/0/99999999999999999999", "alice@example.com/0/1", "t\u{1}\u{1B}[31m/0/1", "a\nb/0/1", "caf\u{E9}/0/1",
            String(repeating: "t", count: 250) + "/1/2", "./0/1", "../0/1", "t/007/5", "t/0/05",
        ]
        for value in valid {
            #expect(RecordHeaders.isTrace(Array(value.utf8)) && RecordHeaders.parseTrace(value) != nil, "\(value.debugDescription)")
        }
        for value in invalid {
            #expect(!RecordHeaders.isTrace(Array(value.utf8)) && RecordHeaders.parseTrace(value) == nil, "\(value.debugDescription)")
        }
        #expect(!RecordHeaders.isTrace([0xFF, 0xFE, 0x2F, 0x30, 0x2F, 0x31]), "invalid UTF-8 as the topic")
    }
}
