import Config
import Foundation
@testable import IngestCore
import Kafka
import Observability
import TestSupport
import Testing
import Wire

/// A million mutated upstream records through the ingest processor: none may crash or hang it, and every
/// input must end as exactly one of forwarded, control, dead-lettered or dropped, with the records that
/// outcome promises and no raw identifier in a dead letter.
@Suite("Ingest: fuzzed upstream records")
struct IngestFuzzTests {
    static let identifiers = [
        "ada.lovelace@example.com", "+1 (415) 555-0123", "AEBE52E7-03EE-455A-B3C4-E57283966239", "38400000-8cf0-11bd-b23e-10b96e40000d",
        "9774d56d682e549c", "@adalovelace", "783214999",
        // As normalize would write them: a leak of the normalized form is as bad as of the raw one.
        "+14155550123", "aebe52e7-03ee-455a-b3c4-e57283966239", "adalovelace",
    ]
    static let corpus: [String] = [
        #"{"type":"membership","audience":{"id":"aud_x","name":"High value"},"action":"enter","user":{"id":"u_1","email":"ada.lovelace@example.com","phone":"+1 (415) 555-0123","idfa":"AEBE52E7-03EE-455A-B3C4-E57283966239","gaid":"38400000-8cf0-11bd-b23e-10b96e40000d","android_id":"9774d56d682e549c","x_handle":"@adalovelace","x_id":"783214999"},"consent":{"ads":true},"timestamp":"2026-11-23T19:00:00Z"}"#,
        #"{"type":"membership","audience":{"id":"aud_both"},"action":"exit","user":{"email":"ada.lovelace@example.com"}}"#,
        #"{"type":"snapshot_begin","audience":{"id":"aud_both","name":"Both"},"snapshot":"s-1"}"#,
        #"{"type":"snapshot_member","audience":{"id":"aud_both"},"snapshot":"s-1","user":{"id":"u_2","phone":"+1 (415) 555-0123"},"consent":{"ads":false}}"#,
        #"{"type":"snapshot_end","audience":{"id":"aud_both"},"snapshot":"s-1","members":1}"#,
        #"{"type":"audience","audience":{"id":"aud_tiktok","name":"TikTok only"},"action":"deleted"}"#,
        #"{"type":"membership","audience":{"id":"aud_none"},"action":"enter","user":{"id":"u_3","x_id":"783214999"}}"#,
        #"{"type":"track","event":"Audience Entered","userId":"u_4","properties":{"audience_key":"aud_x"},"context":{"traits":{"email":"ada.lovelace@example.com","phone":"+1 (415) 555-0123"},"device":{"type":"ios","advertisingId":"AEBE52E7-03EE-455A-B3C4-E57283966239"},"personas":{"computation_key":"aud_x"}}}"#,
        #"{"type":"identify","userId":"u_5","traits":{"aud_both":false,"email":"ada.lovelace@example.com"},"context":{"personas":{"computation_key":"aud_both","computation_class":"audience"},"device":{"type":"android","advertisingId":"38400000-8cf0-11bd-b23e-10b96e40000d"}}}"#,
    ]
    static let dictionary: [String] = [
        #""type""#, #""membership""#, #""track""#, #""identify""#, #""snapshot_member""#, #""snapshot_end""#, #""audience""#, #""action""#, #""enter""#, #""exit""#,
        #""user""#, #""email""#, #""phone""#, #""id""#, #""aud_x""#, #""aud_both""#, #""members""#, #""consent""#, #""ads""#,
        #""timestamp""#, #""userId""#, #""traits""#, #""context""#, #""personas""#, #""computation_key""#, #""audience_key""#,
        "\\u0000", "\\ud800", "\\udc00\\ud800", "\\\"", "1e999", "-0", "9223372036854775808", "true", "null", "[", "{", "}", "]", ",", ":",
        "\u{FEFF}", "\u{0301}", "\u{202E}", "\u{10FFFF}", "\u{00A0}", "\t", "\r\n",
    ]

    @Test("1,000,000 inputs: no crash, no hang, every input accounted for with the records its outcome promises")
    func fuzzIngest() throws {
        let config = try ConfigParser.parse(Data(TestConfigs.standard.utf8))
        let partitions: Int32 = 4
        let processor = IngestProcessor(config: config, memberPartitions: partitions, metrics: MetricsRegistry(), logger: Logger(stage: "fuzz", minimumLevel: .error))
        var fuzzer = Fuzzer(
            defaultSeed: 0xC0_4057, corpus: Self.corpus.map { Array($0.utf8) }, dictionary: Self.dictionary.map { Array($0.utf8) })
        let needles = LeakScanner(needles: Self.identifiers)
        try #require(needles.count == Self.identifiers.count, "every identifier is long enough to look for")
        var tally = (forwarded: 0, control: 0, deadLettered: 0, dropped: 0)
        var out = OutgoingRecords()
        var text = FieldText()
        let count = Fuzzer.inputCount(standard: 1_000_000)
        let report = try fuzzer.run(target: "ingest", count: count) { index, input in
            out.removeAll()
            let record = ConsumerRecord(topic: "cdp.fuzz", partition: Int32(index % 3), offset: Int64(index), key: nil, value: input, headers: [])
            let outcome = processor.process(record, into: &out, text: &text, latestEventTime: processor.latestEventTime())
            switch outcome {
            case .forwarded:
                tally.forwarded += 1
                guard out.count == 1 else { throw TestSupportError("forwarded with \(out.count) records") }
                let produced = out.records[0]
                guard produced.topic == TopicNames.members, case .change(let change) = try MemberRecord(serializedBytes: produced.value) else {
                    throw TestSupportError("forwarded something other than a member change to \(produced.topic)")
                }
                guard produced.key == Array("\(change.audienceID)/\(change.userKey)".utf8) else { throw TestSupportError("member keyed \(produced.key ?? [])") }
            case .control:
                tally.control += 1
                let produced = out.records
                guard produced.count == Int(partitions), produced.map(\.placement) == (0..<partitions).map({ .partition($0) }) else {
                    throw TestSupportError("control record written to \(produced.map(\.placement)), not once to each of \(partitions) partitions")
                }
                for record in produced {
                    _ = try MemberRecord(serializedBytes: record.value)
                }
            case .deadLettered(let reason):
                tally.deadLettered += 1
                guard out.count == 1 else { throw TestSupportError("dead-lettered with \(out.count) records") }
                let produced = out.records[0]
                let letter = try DeadLetter(serializedBytes: produced.value)
                guard produced.topic == TopicNames.deadLetters, letter.reason == reason, letter.stage == "ingest" else {
                    throw TestSupportError("dead letter \(letter.stage)/\(letter.reason) on \(produced.topic) for reason \(reason)")
                }
                if let leaked = needles.leaks(in: produced.value).first {
                    throw TestSupportError("dead letter carries the identifier \(leaked)")
                }
            case .dropped:
                tally.dropped += 1
                guard out.isEmpty else { throw TestSupportError("dropped yet wrote \(out.count) records") }
            }
        }
        print("fuzz ingest (seed \(fuzzer.seed)): \(report); forwarded \(tally.forwarded), control \(tally.control), dead-lettered \(tally.deadLettered), dropped \(tally.dropped)")
        #expect(tally.forwarded + tally.control + tally.deadLettered + tally.dropped == count)
        // Each outcome must be reached, or the mutations no longer explore the parser.
        #expect(tally.forwarded > count / 100 && tally.control > count / 500 && tally.deadLettered > count / 10 && tally.dropped > count / 500)
    }
}
