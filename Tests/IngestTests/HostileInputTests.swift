import Config
import Foundation
import Hashing
@testable import IngestCore
@testable import JSON
import Kafka
import Observability
import Stage
import Synchronization
import TestSupport
import Testing
import Wire

/// Records written by someone who wants a stage to stop, or to make it leak: each is refused with a reason
/// that names the field, and nothing of them reaches the DLQ raw.
@Suite("Ingest: hostile input")
struct HostileInputTests {
    static func refusal(_ json: String, headers: [KafkaHeader] = []) throws -> IngestRefusal {
        switch UpstreamParser.parse(upstream(json, headers: headers)) {
        case .failure(let refusal): return refusal
        case .success(let event): throw TestSupportError("expected a refusal, got \(event)")
        }
    }

    @Test("a key written twice in a field ingest reads is refused invalid-json, naming the key", arguments: [
        (#"{"type":"membership","action":"enter","action":"exit","audience":{"id":"a"},"user":{"id":"u"}}"#, "action"),
        (#"{"type":"membership","action":"enter","audience":{"id":"a","id":"b"},"user":{"id":"u"}}"#, "audience.id"),
        (#"{"type":"membership","action":"enter","audience":{"id":"a"},"user":{"id":"u","email":"a@b.co","email":"c@d.co"}}"#, "user.email"),
        (#"{"type":"identify","userId":"u","traits":{"aud_x":true,"aud_x":false},"context":{"personas":{"computation_key":"aud_x"}}}"#, "traits.<audience_key>"),
        (#"{"type":"track","event":"Audience Entered","userId":"u","properties":{"audience_key":"a"},"context":{"traits":{"phone":"1","phone":"2"}}}"#, "context.traits.phone"),
    ])
    func duplicateKeys(_ json: String, _ path: String) throws {
        let refusal = try Self.refusal(json)
        #expect(refusal.reason == "invalid-json")
        #expect(refusal.detail == "\(path): the key appears more than once; send each field once")
    }

    @Test("keys compare byte for byte, as JavaScript does: canonically equivalent spellings are two keys")
    func keysByBytes() throws {
        // The audience key in NFC, the trait in NFD: Swift's == calls them equal, JavaScript does not.
        let missing = try Self.refusal(#"{"type":"identify","userId":"u","traits":{"cafe\u0301":true},"context":{"personas":{"computation_key":"caf\u00e9"}}}"#)
        #expect(missing.reason == "invalid-field" && missing.detail.hasPrefix("traits.<audience_key>"))
        let both = try UpstreamParser.parse(upstream(
            #"{"type":"identify","userId":"u","traits":{"caf\u00e9":true,"cafe\u0301":false},"context":{"personas":{"computation_key":"caf\u00e9"}}}"#)).get()
        guard case .member(let change) = both else {
            Issue.record("expected a member")
            return
        }
        #expect(change.action == .enter, "two distinct keys, not a duplicate; the one spelled like the audience key counts")
    }

    @Test("a key written twice in a field ingest does not read is harmless")
    func unreadDuplicate() throws {
        let event = try UpstreamParser.parse(upstream(#"{"type":"membership","action":"enter","audience":{"id":"a"},"user":{"id":"u"},"extra":1,"extra":2}"#)).get()
        #expect(event.audienceID == "a")
    }

    @Test("Segment fields of the wrong type are refused as the native format refuses them", arguments: [
        (#"{"type":"track","event":"Audience Entered","userId":"u","properties":{"audience_key":"a"},"context":{"traits":{"email":5}}}"#, "context.traits.email: expected a string, found a number"),
        (#"{"type":"track","event":"Audience Entered","userId":"u","properties":{"audience_key":"a"},"context":{"device":{"type":"ios","advertisingId":7}}}"#, "context.device.advertisingId: expected a string, found a number"),
        (#"{"type":"track","event":"Audience Entered","userId":42,"properties":{"audience_key":"a"}}"#, "userId: expected a string, found a number"),
        (#"{"type":"track","event":"Audience Entered","userId":"u","properties":{"audience_key":["a"]}}"#, "properties.audience_key: expected a string, found an array"),
        (#"{"type":"track","event":"Audience Entered","userId":"u","properties":{"audience_key":"a"},"timestamp":"yesterday"}"#, "timestamp: expected an RFC 3339 time such as 2026-11-23T19:00:00Z (a fraction is optional; Z or ±HH:MM)"),
        (#"{"type":"identify","userId":"u","traits":"aud_x","context":{"personas":{"computation_key":"aud_x"}}}"#, "traits: expected an object, found a string"),
    ])
    func segmentTypes(_ json: String, _ detail: String) throws {
        let refusal = try Self.refusal(json)
        #expect(refusal.reason == "invalid-field")
        #expect(refusal.detail == detail)
    }

    @Test("null, a bare value, deep nesting and broken UTF-8 are invalid-json with a detail", arguments: [
        ("null", "the record is null, not a JSON object"),
        ("42", "the record is a number, not a JSON object"),
        (String(repeating: "[", count: 100_000), "the record is not JSON: line 1, column 129: at most 128 levels of nesting"),
        ("{\"type\":\"membership\",}", "the record is not JSON: line 1, column 22: a member name in double quotes"),
        ("{\"type\":\n\"membership\"\n \"x\":1}", "the record is not JSON: line 3, column 2: ',' or '}' after an object member"),
    ])
    func notAnObject(_ text: String, _ detail: String) throws {
        let refusal = try Self.refusal(text)
        #expect(refusal.reason == "invalid-json")
        #expect(refusal.detail == detail)
    }

    @Test("invalid UTF-8 inside a string is invalid-json, with or without escapes around it", arguments: [
        [0xC3, 0x28], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0x5C, 0x6E, 0xC3, 0x28],
    ] as [[UInt8]])
    func brokenUTF8(_ broken: [UInt8]) throws {
        let bytes = Array(#"{"type":"membership","audience":{"id":""#.utf8) + broken + Array(#""}}"#.utf8)
        let record = ConsumerRecord(topic: "t", partition: 0, offset: 0, key: nil, value: bytes, headers: [])
        let refusal = try #require(UpstreamParser.parse(record).failureValue, "broken UTF-8 \(broken) was accepted")
        #expect(refusal.reason == "invalid-json" && refusal.detail.contains("valid UTF-8"))
    }

    @Test("the reader's UTF-8 check agrees with Swift's validation on 20,000 random byte strings")
    func utf8CheckAgreesWithSwift() {
        var generator = SystemRandomNumberGenerator()
        // Bytes weighted towards the interesting ranges: ASCII, continuation bytes and every kind of lead byte.
        let pool: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var disagreements: [[UInt8]] = []
        var valid = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 1...6, using: &generator)).map { _ in pool.randomElement(using: &generator)! }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if expected { valid += 1 }
            if JSONReader.isValidUTF8(bytes[...]) != expected { disagreements.append(bytes) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(valid > 100, "the sample holds valid strings too")
    }

    @Test("30,000 randomly mutated records: the reader never traps, and what it accepts reads back whole")
    func mutatedRecords() throws {
        let seeds = [
            #"{"type":"membership","audience":{"id":"aud_x","name":"A\u00e9"},"action":"enter","user":{"id":"u1","email":"a@b.co","phone":"+1 555 0100"},"consent":{"ads":true},"timestamp":"2026-11-23T19:00:00Z"}"#,
            #"{"type":"identify","userId":"u\"2","traits":{"aud_y":true,"email":"\ud83d\ude00@x.io"},"context":{"personas":{"computation_key":"aud_y"}},"timestamp":"2026-11-23T19:00:00.000Z"}"#,
            #"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s\/1","members":1e2,"extra":[1,-2.5e-3,null,false,{"k":"v"}]}"#,
        ].map { Array($0.utf8) }
        let inserts: [UInt8] = Array(#"\"{}[],:u0123456789abcdefABCDEF/ntr"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for round in 0..<30_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[at] = inserts.randomElement(using: &generator)!
                case 1: bytes.insert(inserts.randomElement(using: &generator)!, at: at)
                default: if bytes.count > 2 { bytes.remove(at: at) }
                }
            }
            guard let document = try? JSONReader.document(bytes) else { continue }
            accepted += 1
            // Every string of an accepted text decodes, and the tree re-encodes to valid UTF-8.
            let tree = document.node(document.root)
            #expect(String(validating: Array("\(tree)".utf8), as: UTF8.self) != nil)
            _ = UpstreamParser.parse(ConsumerRecord(topic: "t", partition: 0, offset: Int64(round), key: nil, value: bytes))
        }
        #expect(accepted > 1_000, "too few mutations stayed JSON to exercise reading (\(accepted))")
    }

    @Test("a number is an integer only when its digits say so, not when a double would round it to one", arguments: [
        ("1e2", 100), ("1E+2", 100), ("100.0", 100), ("100e-2", 1), ("-2e1", -20), ("0e5", 0), ("8.999e15", 8_999_000_000_000_000),
        ("1e-400", nil), ("0." + String(repeating: "0", count: 400) + "1", nil), ("5.0000000000000001", nil),
        ("1.00000000000000000000000000001e2", nil), ("1.5", nil), ("1e16", nil), ("1e1000", nil),
        ("1e-9223372036854775808", nil), ("1e9223372036854775807", nil), ("1e-99999999999999999999", nil),
    ] as [(String, Int64?)])
    func exactIntegers(_ text: String, _ expected: Int64?) {
        #expect(FieldReader.exactInteger(text) == expected)
    }

    @Test("a key written once plainly and once with escapes is a duplicate; an escaped key alone reads as its text")
    func escapedKeys() throws {
        let duplicate = ConsumerRecord(
            topic: "t", partition: 0, offset: 0, key: nil,
            value: Array(#"{"type":"membership","\u0074ype":"audience","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u"}}"#.utf8))
        let refusal = try #require(UpstreamParser.parse(duplicate).failureValue)
        #expect(refusal.reason == "invalid-json" && refusal.detail.hasPrefix("type:"), "\(refusal)")
        let long = String(repeating: #"\u00e9"#, count: 20_000)
        let escaped = ConsumerRecord(
            topic: "t", partition: 0, offset: 1, key: nil,
            value: Array(#"{"\u0074\u0079\u0070\u0065":"membership","\#(long)":1,"audience":{"id":"aud_x"},"action":"enter","user":{"\u0069d":"u"}}"#.utf8))
        guard case .success(.member(let change)) = UpstreamParser.parse(escaped) else {
            Issue.record("the escaped record was not read as a membership")
            return
        }
        #expect(change.audienceID == "aud_x" && change.userKey.contains("u"))
    }

    @Test("a snapshot's member count that only rounds to an integer is refused, so it cannot complete a snapshot")
    func roundedMemberCount() throws {
        let record = ConsumerRecord(
            topic: "t", partition: 0, offset: 0, key: nil,
            value: Array(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s1","members":5.0000000000000001}"#.utf8))
        let refusal = try #require(UpstreamParser.parse(record).failureValue)
        #expect(refusal.reason == "invalid-field" && refusal.detail == "members: expected an integer")
    }

    @Test("valid UTF-8 and escapes read as written", arguments: [
        ("caf\u{E9}", #"caf\u00e9"#), ("\u{65E5}\u{672C}", "\u{65E5}\u{672C}"), ("\u{1F600}", #"\ud83d\ude00"#), ("a\nb", #"a\nb"#), ("\u{E9}t\u{E9}", "\u{E9}t\u{E9}"),
    ])
    func validUTF8(_ expected: String, _ written: String) throws {
        let parsed = try JSONReader.parse(Array(#"{"k":"\#(written)"}"#.utf8))
        guard case .object(let object) = parsed else {
            Issue.record("not an object")
            return
        }
        #expect(try object.value("k") == .string(expected))
    }

    @Test("every field is bounded, and a value over its bound is refused naming the field and the bound", arguments: [
        ("user", "id", FieldBounds.userID), ("user", "email", FieldBounds.email), ("user", "phone", FieldBounds.identifier),
        ("user", "idfa", FieldBounds.identifier), ("user", "x_handle", FieldBounds.identifier), ("audience", "id", FieldBounds.audienceID),
        ("audience", "name", FieldBounds.audienceName),
    ])
    func bounds(_ object: String, _ field: String, _ bound: Int) throws {
        func record(_ length: Int) -> String {
            var fields = ["audience": ["id": "aud_x"], "user": ["id": "u"]]
            fields[object, default: [:]][field] = String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)
            let data = try! JSONSerialization.data(withJSONObject: ["type": "membership", "action": "enter", "audience": fields["audience"]!, "user": fields["user"]!])
            return String(decoding: data, as: UTF8.self)
        }
        #expect(throws: Never.self) { try UpstreamParser.parse(upstream(record(bound))).get() }
        let refusal = try Self.refusal(record(bound + 1))
        #expect(refusal.reason == "invalid-field")
        #expect(refusal.detail == "\(object).\(field): \(bound + 1) bytes; at most \(bound)")
    }

    @Test("an email as a member name or as a type, action, event or timestamp value never reaches the excerpt", arguments: [
        #"{"type":"identify","traits":{"someone@example.com":true},"context":{"personas":{"computation_key":"aud_x"}}}"#,
        #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u"},"timestamp":"someone@example.com"}"#,
        #"{"type":"someone@example.com","audience":{"id":"aud_x"}}"#,
        #"{"type":"membership","audience":{"id":"aud_x"},"action":"someone@example.com","user":{"id":"u"}}"#,
        #"{"type":"track","event":"someone@example.com","userId":"u"}"#,
        #"{"someone@example.com" :1, "type":"x"}"#,
    ])
    func excerptAllowList(_ json: String) {
        let excerpt = ExcerptRedactor.excerpt(Array(json.utf8))
        #expect(!excerpt.contains("someone") && !excerpt.contains("example.com"), "\(excerpt)")
        #expect(excerpt.contains("\"type\""), "schema names stay: \(excerpt)")
    }

    @Test("schema enumerations stay in the excerpt and times are written anew; other values of those fields do not")
    func excerptKeepsSchemaValues() {
        let excerpt = ExcerptRedactor.excerpt(Array(#"{"type":"membership","action":"exit","timestamp":"2026-11-23T19:00:00.123Z","x":"membership","event":"Audience Exited"}"#.utf8))
        #expect(excerpt == #"{"type":"membership","action":"exit","timestamp":"2026-11-23T19:00:00.123Z","[name]":"[redacted]","event":"Audience Exited"}"#)
        // Whatever the text around a time is, it is never copied.
        for (hidden, secret) in [("2026-11-23T19:00:00+447911123456", "447911123456"), ("+1 (555) 123-4567", "555"), ("2026-11-23T19:00:00Z@x.co", "x.co")] {
            let masked = ExcerptRedactor.excerpt(Array(#"{"timestamp":"\#(hidden)"}"#.utf8))
            #expect(!masked.contains(secret), "\(hidden) → \(masked)")
            #expect(masked == #"{"timestamp":"[redacted]"}"# || masked.hasSuffix(#":00Z"}"#), "\(hidden) → \(masked)")
        }
    }

    @Test("a byte order mark is skipped, and integral numbers written as 1e3 or 100.0 count as integers")
    func lenientWhereJSONDecoderWas() throws {
        let bom = [0xEF, 0xBB, 0xBF] + Array(#"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":1e3}"#.utf8)
        let event = try UpstreamParser.parse(ConsumerRecord(topic: "t", partition: 0, offset: 0, key: nil, value: bom, headers: [])).get()
        #expect(event == .snapshotEnd(audienceID: "a", snapshotID: "s", declaredMembers: 1000))
        let fraction = try Self.refusal(#"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s","members":2.5}"#)
        #expect(fraction.reason == "invalid-field" && fraction.detail == "members: expected an integer")
    }

    @Test("an email used as a snapshot id never reaches a log line; the line names the snapshot by a digest")
    func snapshotIDNotLogged() throws {
        final class Lines: Sendable { let all = Mutex<[String]>([]) }
        let lines = Lines()
        let config = try ConfigParser.parse(Data(TestConfigs.standard.utf8))
        let processor = IngestProcessor(
            config: config, memberPartitions: 2, metrics: MetricsRegistry(),
            logger: Logger(stage: "test", minimumLevel: .debug, sink: LogSink { line in lines.all.withLock { $0.append(line) } }))
        _ = processor.process(upstream(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"someone@example.com","members":5}"#))
        let logged = lines.all.withLock { $0 }
        let warning = try #require(logged.first { $0.contains("snapshot-incomplete") })
        #expect(warning.contains(SHA256Digest.logReference("someone@example.com")))
        #expect(!logged.contains { $0.contains("someone") }, "\(logged)")
    }

    @Test("a member whose record would exceed the stage's limit is dead-lettered too-large and not counted in its snapshot")
    func outputLimit() throws {
        let config = try ConfigParser.parse(Data(TestConfigs.standard.utf8))
        let processor = IngestProcessor(
            config: config, memberPartitions: 2, recordLimit: RecordSizeLimit(bytes: 400), metrics: MetricsRegistry(), logger: Logger(stage: "test", minimumLevel: .error))
        _ = processor.process(upstream(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s1"}"#))
        let long = String(repeating: "k", count: 500)
        let (records, outcome) = processor.process(upstream(#"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s1","user":{"id":"\#(long)"}}"#, offset: 1))
        #expect(outcome == .deadLettered(reason: "too-large"))
        let record = try #require(records.first)
        #expect(records.count == 1 && record.topic == TopicNames.deadLetters)
        let letter = try DeadLetter(serializedBytes: record.value)
        #expect(letter.reason == "too-large" && letter.detail.contains("at most 400") && letter.source.offset == 1)
        let (fits, fitOutcome) = processor.process(upstream(#"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s1","user":{"id":"u"}}"#, offset: 2))
        #expect(fitOutcome == .forwarded && fits.count == 1)
        let (end, _) = processor.process(upstream(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s1","members":2}"#, offset: 3))
        guard case .snapshot(let marker) = try MemberRecord(serializedBytes: try #require(end.first).value) else {
            Issue.record("expected a snapshot marker")
            return
        }
        #expect(marker.receivedMembers == 1 && !marker.complete, "the dead-lettered member does not count, so the snapshot removes nobody")
    }
}

extension Result {
    /// The error of a failure; nil for a success.
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
