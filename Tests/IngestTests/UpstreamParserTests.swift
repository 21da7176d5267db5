import Foundation
@testable import IngestCore
import Kafka
import Testing
import Wire

func upstream(_ json: String, headers: [KafkaHeader] = [], partition: Int32 = 0, offset: Int64 = 0) -> ConsumerRecord {
    ConsumerRecord(topic: "cdp.audiences", partition: partition, offset: offset, key: nil, value: Array(json.utf8), headers: headers)
}

@Suite("Ingest: upstream formats")
struct UpstreamParserTests {
    @Test("a native membership enter becomes a member change with every identifier, consent and time")
    func membership() throws {
        let event = try UpstreamParser.parse(upstream("""
            {"type":"membership","audience":{"id":"aud_42","name":"High value"},"action":"enter",
             "user":{"id":"u_1","email":"Ada@Example.com","phone":"+1 555 123 4567","idfa":"A-1","gaid":"G-1","android_id":"an","x_handle":"@ada","x_id":"42"},
             "consent":{"ads":true},"timestamp":"2026-11-23T19:00:00Z"}
            """)).get()
        #expect(event == .member(MemberChange(
            audienceID: "aud_42", userKey: "u_1", action: .enter,
            identifiers: RawIdentifiers(email: "Ada@Example.com", phone: "+1 555 123 4567", idfa: "A-1", gaid: "G-1", androidID: "an", xHandle: "@ada", xID: "42"),
            consent: .granted, eventTimeMilliseconds: 1_795_460_400_000)))
    }

    @Test("without user.id the key is derived from the identifiers and holds no raw value")
    func derivedKey() throws {
        let event = try UpstreamParser.parse(upstream(#"{"type":"membership","audience":{"id":"a"},"action":"exit","user":{"email":" Ada@Example.com "},"consent":{"ads":false}}"#)).get()
        guard case .member(let change) = event else { Issue.record("expected a member"); return }
        #expect(change.userKey.hasPrefix("sha256:"))
        #expect(!change.userKey.contains("ada"))
        #expect(change.consent == .denied)
        let same = try UpstreamParser.parse(upstream(#"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"email":"ada@example.com"}}"#)).get()
        guard case .member(let other) = same else {
            Issue.record("the record did not parse as the test expects")
            return
        }
        #expect(other.userKey == change.userKey, "the same person keys the same way")
    }

    @Test("a snapshot marker's timestamp must be a time but may be a writer's default; a membership's or an audience event's may not")
    func epochTimestamps() throws {
        #expect(try UpstreamParser.parse(upstream(#"{"type":"snapshot_begin","audience":{"id":"a"},"snapshot":"s1","timestamp":"1970-01-01T00:00:00Z"}"#)).get()
            == .snapshotBegin(audienceID: "a", snapshotID: "s1"))
        #expect(
            try UpstreamParser.parse(upstream(#"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s1","members":3,"timestamp":"1970-01-01T00:00:00Z"}"#)).get()
                == .snapshotEnd(audienceID: "a", snapshotID: "s1", declaredMembers: 3))
        for refused in [
            #"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"},"timestamp":"1970-01-01T00:00:00Z"}"#,
            #"{"type":"snapshot_member","audience":{"id":"a"},"snapshot":"s1","user":{"id":"u"},"timestamp":"1969-12-31T23:59:59Z"}"#,
            #"{"type":"audience","audience":{"id":"a","name":"N"},"action":"deleted","timestamp":"1970-01-01T00:00:00Z"}"#,
            #"{"type":"snapshot_begin","audience":{"id":"a"},"snapshot":"s1","timestamp":"not a time"}"#,
        ] {
            let refusal: IngestRefusal? = switch UpstreamParser.parse(upstream(refused)) {
            case .failure(let refusal): refusal
            case .success: nil
            }
            #expect(refusal?.reason == "invalid-field", "\(refused)")
            #expect(refusal?.detail.hasPrefix("timestamp: ") == true, "\(refused)")
        }
    }

    @Test("snapshot begin, member and end, and audience lifecycle")
    func snapshotsAndLifecycle() throws {
        #expect(try UpstreamParser.parse(upstream(#"{"type":"snapshot_begin","audience":{"id":"a"},"snapshot":"s1"}"#)).get() == .snapshotBegin(audienceID: "a", snapshotID: "s1"))
        #expect(try UpstreamParser.parse(upstream(#"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s1","members":3}"#)).get() == .snapshotEnd(audienceID: "a", snapshotID: "s1", declaredMembers: 3))
        guard case .member(let change) = try UpstreamParser.parse(upstream(#"{"type":"snapshot_member","audience":{"id":"a"},"snapshot":"s1","user":{"id":"u"}}"#)).get() else {
            Issue.record("expected a member")
            return
        }
        #expect(change.action == .snapshotMember && change.snapshotID == "s1")
        #expect(try UpstreamParser.parse(upstream(#"{"type":"audience","audience":{"id":"a","name":"N"},"action":"deleted"}"#)).get()
            == .lifecycle(AudienceLifecycle(audienceID: "a", name: "N", event: .deleted)))
    }

    @Test("malformed input is refused with a reason and a detail naming the field", arguments: [
        ("not json at all", "invalid-json"),
        ("[1,2,3]", "invalid-json"),
        (#"{"audience":{"id":"a"}}"#, "unknown-type"),
        (#"{"type":"purchase","audience":{"id":"a"}}"#, "unknown-type"),
        (#"{"type":"membership","action":"enter","user":{"id":"u"}}"#, "missing-audience-id"),
        (#"{"type":"membership","audience":{"id":""},"action":"enter","user":{"id":"u"}}"#, "missing-audience-id"),
        (#"{"type":"membership","audience":{"id":"a"},"action":"joined","user":{"id":"u"}}"#, "invalid-action"),
        (#"{"type":"membership","audience":{"id":"a"},"action":"enter"}"#, "missing-user"),
        (#"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{}}"#, "missing-user"),
        (#"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"email":42}}"#, "invalid-field"),
        (#"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"},"consent":{"ads":"yes"}}"#, "invalid-field"),
        (#"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"id":"u"},"timestamp":"yesterday"}"#, "invalid-field"),
        (#"{"type":"snapshot_begin","audience":{"id":"a"}}"#, "missing-snapshot-id"),
        (#"{"type":"snapshot_end","audience":{"id":"a"},"snapshot":"s"}"#, "invalid-field"),
        (#"{"type":"audience","audience":{"id":"a"},"action":"archived"}"#, "invalid-action"),
    ])
    func refusals(_ json: String, _ reason: String) {
        guard case .failure(let refusal) = UpstreamParser.parse(upstream(json)) else {
            Issue.record("expected \(reason)")
            return
        }
        #expect(refusal.reason == reason)
        #expect(!refusal.detail.isEmpty)
    }

    @Test("the field of a type mismatch is named")
    func namedField() {
        guard case .failure(let refusal) = UpstreamParser.parse(upstream(#"{"type":"membership","audience":{"id":"a"},"action":"enter","user":{"email":42}}"#)) else {
            Issue.record("the record did not parse as the test expects")
            return
        }
        #expect(refusal.detail.hasPrefix("user.email"))
    }

    @Test("a record over 1 MiB is refused before parsing")
    func tooLarge() {
        let big = upstream("{\"type\":\"membership\",\"pad\":\"" + String(repeating: "x", count: 1 << 20) + "\"}")
        guard case .failure(let refusal) = UpstreamParser.parse(big) else { Issue.record("expected too-large"); return }
        #expect(refusal.reason == "too-large")
    }

    @Test("Segment track Audience Entered / Exited with traits, device ids and userId")
    func segmentTrack() throws {
        let json = """
            {"type":"track","event":"Audience Entered","userId":"seg_1","properties":{"audience_key":"aud_both"},
             "context":{"traits":{"email":"ada@example.com","phone":"+44 20 7946 0958"},"device":{"type":"ios","advertisingId":"AEBE52E7-03EE-455A-B3C4-E57283966239"},
             "personas":{"computation_key":"aud_both"}},"timestamp":"2026-11-23T19:00:00.000Z"}
            """
        guard case .member(let change) = try UpstreamParser.parse(upstream(json)).get() else { Issue.record("expected a member"); return }
        #expect(change.audienceID == "aud_both" && change.userKey == "seg_1" && change.action == .enter)
        #expect(change.identifiers == RawIdentifiers(email: "ada@example.com", phone: "+44 20 7946 0958", idfa: "AEBE52E7-03EE-455A-B3C4-E57283966239"))
        let exited = json.replacingOccurrences(of: "Audience Entered", with: "Audience Exited").replacingOccurrences(of: "\"ios\"", with: "\"android\"")
        guard case .member(let exit) = try UpstreamParser.parse(upstream(exited)).get() else {
            Issue.record("the record did not parse as the test expects")
            return
        }
        #expect(exit.action == .exit && exit.identifiers.gaid == "AEBE52E7-03EE-455A-B3C4-E57283966239" && exit.identifiers.idfa.isEmpty)
    }

    @Test("Segment: an empty trait or audience_key leaves the context's value in force, as an absent or null one does")
    func segmentEmptyFallsBack() throws {
        for empty in [#""email":"","phone":"","#, #""email":null,"phone":null,"#, ""] {
            let json = """
                {"type":"track","event":"Audience Entered","userId":"seg_3","properties":{"audience_key":""},"traits":{\(empty)"plan":"gold"},
                 "context":{"traits":{"email":"ctx@example.com","phone":"+44 20 7946 0958"},"personas":{"computation_key":"aud_both"}}}
                """
            let event = try UpstreamParser.parse(upstream(json)).get()
            guard case .member(let change) = event else {
                Issue.record("expected a member for traits {\(empty)}, got \(event)")
                continue
            }
            #expect(change.audienceID == "aud_both", "an empty audience_key gives way to the computation key")
            #expect(change.identifiers == RawIdentifiers(email: "ctx@example.com", phone: "+44 20 7946 0958"), "traits {\(empty)}")
        }
        // A value of its own still wins over the context's.
        let own = #"{"type":"identify","userId":"u","traits":{"aud_x":true,"email":"own@example.com"},"context":{"traits":{"email":"ctx@example.com"},"personas":{"computation_key":"aud_x"}}}"#
        guard case .member(let change) = try UpstreamParser.parse(upstream(own)).get() else {
            Issue.record("expected a member")
            return
        }
        #expect(change.identifiers.email == "own@example.com")
    }

    @Test("Segment identify with a boolean trait named after the audience")
    func segmentIdentify() throws {
        let json = #"{"type":"identify","userId":"seg_2","traits":{"aud_x":false,"email":"bob@example.com"},"context":{"personas":{"computation_key":"aud_x"}}}"#
        guard case .member(let change) = try UpstreamParser.parse(upstream(json)).get() else { Issue.record("expected a member"); return }
        #expect(change.audienceID == "aud_x" && change.action == .exit && change.identifiers.email == "bob@example.com")
        let notBoolean = #"{"type":"identify","userId":"u","traits":{"aud_x":"yes"},"context":{"personas":{"computation_key":"aud_x"}}}"#
        guard case .failure(let refusal) = UpstreamParser.parse(upstream(notBoolean)) else { Issue.record("expected a refusal"); return }
        #expect(refusal.reason == "invalid-field")
        let otherTrack = #"{"type":"track","event":"Order Completed","userId":"u"}"#
        guard case .failure(let unknown) = UpstreamParser.parse(upstream(otherTrack)) else {
            Issue.record("the record did not parse as the test expects")
            return
        }
        #expect(unknown.reason == "unknown-type")
    }
}
