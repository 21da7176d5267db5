@testable import IngestCore
import Kafka
import TestSupport
import Testing

/// The one-pass scanner must read exactly what the general path reads, and leave to it everything else.
@Suite("Ingest: native records read in one pass")
struct NativeRecordScannerTests {
    static let member =
        #"{"type":"membership","audience":{"id":"aud_x","name":"High value"},"action":"enter","user":{"id":"u_1","email":" Ada@Example.com ","phone":"+1 (415) 555-0123","idfa":"AEBE52E7-03EE-455A-B3C4-E57283966239","gaid":"38400000-8cf0-11bd-b23e-10b96e40000d","android_id":"9774d56d682e549c","x_handle":"@ada","x_id":"783214999"},"consent":{"ads":true},"timestamp":"2026-11-23T19:00:00Z"}"#

    func record(_ json: String, headers: [KafkaHeader] = []) -> ConsumerRecord {
        ConsumerRecord(topic: "cdp.audiences", partition: 0, offset: 0, key: nil, value: Array(json.utf8), headers: headers)
    }

    func scans(_ json: String) -> Bool {
        var text = FieldText()
        return NativeRecordScanner.fields(of: Array(json.utf8), text: &text) != nil
    }

    @Test("every packed name is its text's bytes")
    func packedNames() throws {
        try #require(FieldName.known.count == 21)
        for (name, packed) in FieldName.known {
            #expect(FieldName(packing: Array(name.utf8).span) == packed, "\(name)")
        }
        #expect(FieldName(packing: Array("seventeen_bytes__".utf8).span) == nil)
    }

    @Test("records of the format's own fields are read in one pass, as the general path reads them", arguments: [
        member,
        #"{"type":"membership","audience":{"id":"aud_x"},"action":"exit","user":{"email":"ada@example.com"}}"#,
        #" { "type" : "snapshot_member" , "audience" : { "id" : "a" } , "snapshot" : "s" , "user" : { } , "consent" : null } "#,
        #"{"type":"snapshot_begin","audience":{"id":"a","name":null},"snapshot":"s","timestamp":"1969-12-31T23:59:59Z"}"#,
        #"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":123456789012345678}"#,
        #"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":-0}"#,
        #"{"type":"audience","audience":{"id":"a","name":"Zoë ✓ 😀"},"action":"renamed","user":null}"#,
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"","phone":"","email":"  "}}"#,
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"},"timestamp":"1970-01-01T00:00:00Z"}"#,
        #"{"type":"nonsense","audience":{"id":"a"}}"#,
        #"{"audience":{"id":"a"}}"#,
    ])
    func scanned(_ json: String) {
        #expect(scans(json), "the scanner left a record of its own format to the general path")
        let input = record(json)
        #expect(UpstreamParser.parse(input) == UpstreamParser.parseInGeneral(input))
    }

    @Test("what the scanner cannot be sure of goes to the general path, which answers", arguments: [
        // Escapes, in a value and in a name.
        #"{"type":"membership","audience":{"id":"a\u0062"},"action":"enter","user":{"id":"u"}}"#,
        #"{"typ\u0065":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"}}"#,
        // A field of another format, or none of any.
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"},"context":{}}"#,
        #"{"type":"membership","audience":{"id":"a","size":3},"action":"enter","user":{"id":"u"}}"#,
        // Written twice: refused by the general path, naming it.
        #"{"type":"membership","type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"}}"#,
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u","id":"v"}}"#,
        // Numbers the general path reads, or refuses.
        #"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":1e3}"#,
        #"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":1000.0}"#,
        #"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":1234567890123456789}"#,
        #"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":012}"#,
        // Wrong types, bounds, broken text.
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":"u"}"#,
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"},"consent":{"ads":"yes"}}"#,
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u","email":"\#(String(repeating: "e", count: 321))"}}"#,
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"}} x"#,
        #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"},}"#,
        "\u{FEFF}{\"type\":\"membership\",\"audience\":{\"id\":\"a\"},\"action\":\"enter\",\"user\":{\"id\":\"u\"}}",
        // Segment, by its type.
        #"{"type":"track","event":"Audience Entered","userId":"u","properties":{"audience_key":"a"}}"#,
    ])
    func handedOver(_ json: String) {
        let input = record(json)
        #expect(UpstreamParser.parse(input) == UpstreamParser.parseInGeneral(input))
        if !json.contains("track") { #expect(!scans(json), "the scanner read what it should have left to the general path") }
    }

    @Test("a record the scanner reads whose type is Segment's is read as a Segment event", arguments: [
        (#"{"type":"track","audience":{"id":"a"}}"#, "unknown-type", "a Segment track must be Audience Entered or Audience Exited"),
        (#"{"type":"identify","audience":{"id":"a"}}"#, "missing-audience-id", "context.personas.computation_key is required for identify"),
    ])
    func segmentType(_ json: String, _ reason: String, _ detail: String) throws {
        #expect(scans(json), "the scanner reads these fields; only the type sends them elsewhere")
        let input = record(json)
        let refusal = try #require(UpstreamParser.parse(input).failureValue)
        #expect(refusal == IngestRefusal(reason: reason, detail: detail))
        #expect(UpstreamParser.parse(input) == UpstreamParser.parseInGeneral(input))
    }

    @Test("times read from a record's text agree with times read from a string", arguments: [
        "2026-11-23T19:00:00Z", "2026-11-23t19:00:00.123456z", "2026-11-23T20:00:00+01:00", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
        "2026-02-29T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T19:00:00", "", "9999-12-31T23:59:59.999Z",
    ])
    func timesFromText(_ time: String) {
        var text = FieldText()
        _ = text.append("prefix".utf8)
        let range = text.append(time.utf8)
        #expect(
            Result { () throws(IngestRefusal) in try EventTime.milliseconds(range, in: text, field: "t") }
                == Result { () throws(IngestRefusal) in try EventTime.milliseconds(time, field: "t") })
        #expect(
            Result { () throws(IngestRefusal) in try EventTime.readable(range, in: text, field: "t") }
                == Result { () throws(IngestRefusal) in try EventTime.readable(time, field: "t") })
    }

    @Test("invalid UTF-8 inside a string is left to the general path, which refuses it")
    func brokenText() throws {
        var bytes = Array(#"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"}}"#.utf8)
        bytes.insert(0xC0, at: bytes.count - 3)
        var text = FieldText()
        #expect(NativeRecordScanner.fields(of: bytes, text: &text) == nil)
        let input = ConsumerRecord(topic: "t", partition: 0, offset: 0, key: nil, value: bytes)
        let refusal = try #require(UpstreamParser.parse(input).failureValue)
        #expect(refusal.reason == "invalid-json")
    }

    @Test("a Segment content type is never read as native")
    func segmentHeader() {
        let input = record(Self.member, headers: [KafkaHeader(name: "content-type", string: "application/vnd.segment+json")])
        #expect(UpstreamParser.parse(input) == UpstreamParser.parseInGeneral(input))
        #expect(UpstreamParser.parse(input).failureValue != nil)
    }
}
