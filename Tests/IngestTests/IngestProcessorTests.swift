import Config
import Foundation
@testable import IngestCore
import Kafka
import Observability
import TestSupport
import Testing
import Wire

@Suite("Ingest: records produced per upstream record")
struct IngestProcessorTests {
    let processor: IngestProcessor

    init() throws {
        let config = try ConfigParser.parse(Data(TestConfigs.standard.utf8))
        processor = IngestProcessor(config: config, memberPartitions: 4, metrics: MetricsRegistry(), logger: Logger(stage: "test", minimumLevel: .error))
    }

    @Test("a member change is keyed audience/user, placed by key, with the trace headers")
    func member() throws {
        let (records, outcome) = processor.process(upstream(#"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_1","email":"a@b.co"}}"#, partition: 2, offset: 7))
        #expect(outcome == .forwarded)
        let record = try #require(records.first)
        #expect(records.count == 1)
        #expect(record.topic == TopicNames.members && record.placement == .byKey)
        #expect(record.key == Array("aud_x/u_1".utf8))
        #expect(record.headers.string(named: "cohortsync-trace") == "cdp.audiences/2/7")
        #expect(record.headers.string(named: "content-type") == "application/x-protobuf; message=cohortsync.v1.MemberRecord")
        guard case .change(let change) = try MemberRecord(serializedBytes: record.value) else { Issue.record("expected a change"); return }
        #expect(change.identifiers.email == "a@b.co")
    }

    @Test("a member change without a timestamp takes its snapshot's begin time, else its record's Kafka timestamp; one with its own keeps it")
    func eventTimeFallback() throws {
        func time(_ json: String, kafka: Int64?) throws -> Int64 {
            let record = ConsumerRecord(topic: "cdp.audiences", partition: 0, offset: 0, key: nil, value: Array(json.utf8), headers: [], timestampMilliseconds: kafka)
            let produced = try #require(processor.process(record).records.first)
            guard case .change(let change) = try MemberRecord(serializedBytes: produced.value) else { throw TestSupportError("expected a change") }
            return change.eventTimeMilliseconds
        }
        let bare = #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_1"}}"#
        #expect(try time(bare, kafka: 1_795_000_000_123) == 1_795_000_000_123)
        #expect(try time(bare, kafka: nil) == 0)
        let timed = #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_1"},"timestamp":"2026-11-23T19:00:00Z"}"#
        #expect(try time(timed, kafka: 1_795_000_000_123) == 1_795_460_400_000)
        // A snapshot's members were true when it began, however long the CDP took to write them.
        let begin = ConsumerRecord(
            topic: "cdp.audiences", partition: 0, offset: 1, key: nil, value: Array(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s1"}"#.utf8),
            headers: [], timestampMilliseconds: 1_795_000_000_000)
        _ = processor.process(begin)
        let member = #"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s1","user":{"id":"u_2"}}"#
        #expect(try time(member, kafka: 1_795_000_999_000) == 1_795_000_000_000)
        let otherSnapshot = #"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s0","user":{"id":"u_2"}}"#
        #expect(try time(otherSnapshot, kafka: 1_795_000_999_000) == 1_795_000_999_000)
    }

    /// A processor whose clock reads 2026-11-23T19:00:00Z.
    static func clocked() throws -> IngestProcessor {
        IngestProcessor(
            config: try ConfigParser.parse(Data(TestConfigs.standard.utf8)), memberPartitions: 4, metrics: MetricsRegistry(),
            logger: Logger(stage: "test", minimumLevel: .error), now: { Date(timeIntervalSince1970: 1_795_460_400) })
    }

    @Test("a membership timed more than 24 hours after ingest's clock is dead-lettered, naming timestamp; up to 24 hours ahead is taken; a removal so timed goes on (consent denied timed by the clock, an exit without a time)")
    func farFutureEventTime() throws {
        let clocked = try Self.clocked()
        func outcome(_ timestamp: String) -> (IngestProcessor.Outcome, [ProducerRecord]) {
            let result = clocked.process(upstream(#"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_1"},"timestamp":""# + timestamp + #""}"#))
            return (result.outcome, result.records)
        }
        #expect(outcome("2026-11-24T19:00:00Z").0 == .forwarded, "exactly 24 hours ahead")
        #expect(outcome("2026-11-23T20:00:00+01:00").0 == .forwarded, "now, in another zone")
        for late in ["2026-11-24T19:00:00.001Z", "9999-12-31T23:59:59Z", "2027-01-01T00:00:00Z"] {
            let (result, records) = outcome(late)
            #expect(result == .deadLettered(reason: "invalid-field"), "\(late)")
            let letter = try #require(records.first, "\(late)")
            #expect(records.count == 1 && letter.topic == TopicNames.deadLetters, "\(late)")
            let decoded = try DeadLetter(serializedBytes: letter.value)
            #expect(decoded.detail.hasPrefix("timestamp: more than 24 hours after"), "\(late)")
        }
        // Without a timestamp field, the record's Kafka timestamp stands in, and is held to the same bound.
        let bare = Array(#"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_1"}}"#.utf8)
        func kafkaTimed(_ milliseconds: Int64) -> (records: [ProducerRecord], outcome: IngestProcessor.Outcome) {
            clocked.process(ConsumerRecord(topic: "cdp.audiences", partition: 0, offset: 0, key: nil, value: bare, headers: [], timestampMilliseconds: milliseconds))
        }
        #expect(kafkaTimed(1_795_546_800_000).outcome == .forwarded, "exactly 24 hours ahead")
        let skewed = kafkaTimed(253_402_300_799_000)
        #expect(skewed.outcome == .deadLettered(reason: "invalid-field"))
        let letter = try #require(skewed.records.first)
        #expect(skewed.records.count == 1 && letter.topic == TopicNames.deadLetters)
        #expect(try DeadLetter(serializedBytes: letter.value).detail.contains("Kafka timestamp"))
        // A removal is never dead-lettered for its time: consent denied goes on timed by the clock, an exit without a time.
        for (removal, expected): (String, Int64) in [
            (#""action":"exit""#, 0), (#""action":"enter","consent":{"ads":false}"#, 1_795_460_400_000),
            (#""action":"exit","consent":{"ads":false}"#, 1_795_460_400_000),
        ] {
            let json = #"{"type":"membership","audience":{"id":"aud_x"},"# + removal + #","user":{"id":"u_1"},"timestamp":"9999-12-31T23:59:59Z"}"#
            let result = clocked.process(upstream(json))
            #expect(result.outcome == .forwarded, "\(removal)")
            let forwarded = try #require(result.records.first, "\(removal)")
            #expect(result.records.count == 1 && forwarded.topic == TopicNames.members, "\(removal)")
            guard case .change(let change) = try MemberRecord(serializedBytes: forwarded.value) else {
                Issue.record("\(removal): not a member change")
                continue
            }
            #expect(change.eventTimeMilliseconds == expected, "\(removal)")
        }
    }

    @Test("consent denied with no time of its own, no snapshot begin and no Kafka timestamp is timed by ingest's clock; a membership so untimed stays 0, ordered by arrival")
    func untimedWithdrawal() throws {
        let clocked = try Self.clocked()
        func time(_ json: String) throws -> Int64 {
            let record = ConsumerRecord(topic: "cdp.audiences", partition: 0, offset: 0, key: nil, value: Array(json.utf8), headers: [], timestampMilliseconds: nil)
            let result = clocked.process(record)
            #expect(result.outcome == .forwarded)
            let produced = try #require(result.records.first)
            guard case .change(let change) = try MemberRecord(serializedBytes: produced.value) else { throw TestSupportError("expected a change") }
            return change.eventTimeMilliseconds
        }
        #expect(try time(#"{"type":"membership","audience":{"id":"aud_x"},"action":"exit","user":{"id":"u_1"},"consent":{"ads":false}}"#) == 1_795_460_400_000)
        #expect(try time(#"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_1"},"consent":{"ads":false}}"#) == 1_795_460_400_000)
        #expect(try time(#"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_1"},"consent":{"ads":true}}"#) == 0)
        #expect(try time(#"{"type":"membership","audience":{"id":"aud_x"},"action":"exit","user":{"id":"u_1"}}"#) == 0)
    }

    @Test("a snapshot begin tells downstream when it began: its record's Kafka timestamp, 0 when absent or out of bounds")
    func snapshotBeginTime() throws {
        let clocked = try Self.clocked()
        let begin = Array(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s1"}"#.utf8)
        for (kafka, expected): (Int64?, Int64) in [(1_795_460_000_000, 1_795_460_000_000), (nil, 0), (253_402_300_799_000, 0), (-5, 0)] {
            let (records, outcome) = clocked.process(
                ConsumerRecord(topic: "cdp.audiences", partition: 0, offset: 0, key: nil, value: begin, headers: [], timestampMilliseconds: kafka))
            #expect(outcome == .control && records.count == 4, "\(String(describing: kafka))")
            for record in records {
                guard case .snapshot(let marker) = try MemberRecord(serializedBytes: record.value) else {
                    Issue.record("not a marker")
                    continue
                }
                #expect(marker.phase == .begin && marker.beganAtMilliseconds == expected, "\(String(describing: kafka))")
            }
        }
    }

    @Test("snapshot markers go to every partition; the end is complete only when the count matches")
    func snapshots() throws {
        let (begin, _) = processor.process(upstream(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s1"}"#))
        #expect(begin.map(\.placement) == (0..<4).map { .partition($0) })
        for user in 0..<3 {
            _ = processor.process(upstream("{\"type\":\"snapshot_member\",\"audience\":{\"id\":\"aud_x\"},\"snapshot\":\"s1\",\"user\":{\"id\":\"u\(user)\"}}"))
        }
        let (end, outcome) = processor.process(upstream(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s1","members":3}"#))
        #expect(outcome == .control)
        #expect(end.count == 4)
        guard case .snapshot(let marker) = try MemberRecord(serializedBytes: end[0].value) else { Issue.record("expected a marker"); return }
        #expect(marker.complete && marker.receivedMembers == 3 && marker.declaredMembers == 3 && marker.phase == .end)

        _ = processor.process(upstream(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s2"}"#))
        _ = processor.process(upstream(#"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s2","user":{"id":"u"}}"#))
        let (short, _) = processor.process(upstream(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s2","members":2}"#))
        guard case .snapshot(let incomplete) = try MemberRecord(serializedBytes: short[0].value) else {
            Issue.record("the record did not parse as the test expects")
            return
        }
        #expect(!incomplete.complete && incomplete.receivedMembers == 1)
        let (neverBegun, _) = processor.process(upstream(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s9","members":0}"#))
        guard case .snapshot(let orphan) = try MemberRecord(serializedBytes: neverBegun[0].value) else {
            Issue.record("the record did not parse as the test expects")
            return
        }
        #expect(!orphan.complete, "an end without its begin never allows removals")
    }

    @Test("a snapshot whose upstream partition was revoked mid-way ends incomplete")
    func revokedSnapshot() throws {
        _ = processor.process(upstream(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s1"}"#, partition: 1))
        processor.revoked([TopicPartition(topic: "cdp.audiences", partition: 1)])
        let (end, _) = processor.process(upstream(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s1","members":0}"#, partition: 1))
        guard case .snapshot(let marker) = try MemberRecord(serializedBytes: end[0].value) else {
            Issue.record("the record did not parse as the test expects")
            return
        }
        #expect(!marker.complete)
    }

    @Test("open snapshots are tracked by upstream topic and partition: revoking b[1] leaves a[1]'s snapshot whole")
    func snapshotsByTopicAndPartition() throws {
        func record(_ json: String, topic: String) -> ConsumerRecord {
            ConsumerRecord(topic: topic, partition: 1, offset: 0, key: nil, value: Array(json.utf8), headers: [])
        }
        _ = processor.process(record(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s1"}"#, topic: "a"))
        _ = processor.process(record(#"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s1","user":{"id":"u1"}}"#, topic: "a"))
        // A member of the same snapshot from another source is not part of its ordered stream: not counted.
        _ = processor.process(record(#"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s1","user":{"id":"u2"}}"#, topic: "b"))
        processor.revoked([TopicPartition(topic: "b", partition: 1)])
        let (end, _) = processor.process(record(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s1","members":1}"#, topic: "a"))
        let first = try #require(end.first)
        guard case .snapshot(let marker) = try MemberRecord(serializedBytes: first.value) else {
            Issue.record("expected a snapshot marker")
            return
        }
        #expect(marker.complete && marker.receivedMembers == 1)
    }

    @Test("a stray snapshot end from another source neither completes nor closes the snapshot of its own source")
    func strayEnd() throws {
        func record(_ json: String, topic: String, offset: Int64) -> ConsumerRecord {
            ConsumerRecord(topic: topic, partition: 0, offset: offset, key: nil, value: Array(json.utf8), headers: [])
        }
        func marker(_ records: [ProducerRecord]) throws -> SnapshotMarker {
            guard case .snapshot(let marker) = try MemberRecord(serializedBytes: try #require(records.first).value) else {
                throw TestSupportError("expected a snapshot marker")
            }
            return marker
        }
        _ = processor.process(record(#"{"type":"snapshot_begin","audience":{"id":"aud_x"},"snapshot":"s1"}"#, topic: "a", offset: 0))
        _ = processor.process(record(#"{"type":"snapshot_member","audience":{"id":"aud_x"},"snapshot":"s1","user":{"id":"u1"}}"#, topic: "a", offset: 1))
        let stray = try marker(processor.process(record(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s1","members":1}"#, topic: "b", offset: 0)).records)
        #expect(!stray.complete, "an end from another source never completes a snapshot")
        let real = try marker(processor.process(record(#"{"type":"snapshot_end","audience":{"id":"aud_x"},"snapshot":"s1","members":1}"#, topic: "a", offset: 2)).records)
        #expect(real.complete && real.receivedMembers == 1, "the stray end left the snapshot open")
    }

    @Test("lifecycle events go to every partition; audiences without a sync are dropped")
    func lifecycleAndDrops() {
        let (lifecycle, outcome) = processor.process(upstream(#"{"type":"audience","audience":{"id":"aud_both","name":"N"},"action":"deleted"}"#))
        #expect(outcome == .control && lifecycle.count == 4)
        let (dropped, dropOutcome) = processor.process(upstream(#"{"type":"membership","audience":{"id":"aud_none"},"action":"enter","user":{"id":"u"}}"#))
        #expect(dropped.isEmpty && dropOutcome == .dropped(reason: "no-sync"))
    }

    @Test("a membership change denying consent in an audience no connection syncs goes on, timed, without its identifiers; nothing else of that audience does")
    func unsyncedDenial() throws {
        let metrics = MetricsRegistry()
        let processor = IngestProcessor(
            config: try ConfigParser.parse(Data(TestConfigs.standard.utf8)), memberPartitions: 4, metrics: metrics,
            logger: Logger(stage: "test", minimumLevel: .error))
        for json in [
            #"{"type":"membership","audience":{"id":"aud_none"},"action":"enter","user":{"id":"u_1","email":"a@b.co","phone":"+15558675309"},"consent":{"ads":false},"timestamp":"2026-11-23T19:00:00Z"}"#,
            #"{"type":"membership","audience":{"id":"aud_none"},"action":"exit","snapshot":"ada@example.com","user":{"id":"u_1","idfa":"6D92078A-8246-4BA4-AE5B-76104861E7DC"},"consent":{"ads":false},"timestamp":"2026-11-23T19:00:00Z"}"#,
        ] {
            let (records, outcome) = processor.process(upstream(json))
            #expect(outcome == .forwarded)
            let record = try #require(records.first)
            #expect(records.count == 1)
            #expect(record.topic == TopicNames.members && record.key == Array("aud_none/u_1".utf8))
            guard case .change(let change) = try MemberRecord(serializedBytes: record.value) else { Issue.record("expected a change"); continue }
            #expect(change.consent == .denied && change.userKey == "u_1" && change.eventTimeMilliseconds == 1_795_460_400_000)
            #expect(change.identifiers == RawIdentifiers() && change.snapshotID.isEmpty, "an unsynced audience's identifiers and free text are not forwarded")
        }
        for json in [
            #"{"type":"membership","audience":{"id":"aud_none"},"action":"enter","user":{"id":"u_1"},"consent":{"ads":true}}"#,
            #"{"type":"membership","audience":{"id":"aud_none"},"action":"exit","user":{"id":"u_1"}}"#,
            #"{"type":"snapshot_member","audience":{"id":"aud_none"},"snapshot":"s1","user":{"id":"u_1"},"consent":{"ads":false}}"#,
            #"{"type":"snapshot_begin","audience":{"id":"aud_none"},"snapshot":"s1"}"#,
        ] {
            let (records, outcome) = processor.process(upstream(json))
            #expect(records.isEmpty && outcome == .dropped(reason: "no-sync"), "\(json)")
        }
        #expect(metrics.render().contains("cohortsync_ingest_unsynced_denials_total 2\n"), "\(metrics.render())")
    }

    @Test("a refused record becomes a DLQ record with source, reason and an excerpt free of raw identifiers")
    func deadLetter() throws {
        let raw = #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"email":"ada.lovelace@example.com","phone":"+1 555 867 5309"},"consent":{"ads":"maybe"}}"#
        let (records, outcome) = processor.process(upstream(raw, partition: 3, offset: 99))
        #expect(outcome == .deadLettered(reason: "invalid-field"))
        let record = try #require(records.first)
        #expect(record.topic == TopicNames.deadLetters)
        let letter = try DeadLetter(serializedBytes: record.value)
        #expect(letter.stage == "ingest" && letter.reason == "invalid-field" && letter.source == SourcePosition(topic: "cdp.audiences", partition: 3, offset: 99))
        #expect(letter.detail.contains("consent.ads"))
        #expect(letter.payload.isEmpty)
        for secret in ["ada", "lovelace", "5309", "867"] {
            #expect(!letter.redactedExcerpt.contains(secret), "excerpt leaks \(secret): \(letter.redactedExcerpt)")
        }
        #expect(letter.redactedExcerpt.contains("\"email\":\"[redacted]\""))
        #expect(letter.redactedExcerpt.contains("\"type\":\"membership\""))
    }

    @Test("the excerpt of text that is not JSON masks words and numbers")
    func excerptOfGarbage() {
        let excerpt = ExcerptRedactor.excerpt(Array("email=ada@example.com phone 5558675309 true".utf8))
        #expect(!excerpt.contains("ada") && !excerpt.contains("5558675309"))
        #expect(excerpt.contains("true"))
    }
}
