import Config
import Foundation
import Hashing
import Kafka
@testable import NormalizeCore
import Stage
import TestSupport
import Testing
import Wire

@Suite("Normalize: hashed members per connection")
struct MemberNormalizerTests {
    let config: CohortSyncConfig
    let normalizer: MemberNormalizer

    init() throws {
        config = try ConfigParser.parse(Data(TestConfigs.standard.utf8))
        normalizer = MemberNormalizer(config: config)
    }

    func digest(_ text: String) -> [UInt8] { SHA256Digest.hash(text).bytes }

    @Test("each connection gets its forwarded kinds, normalized by its own destination's rules")
    func perConnection() throws {
        let change = MemberChange(
            audienceID: "aud_both", userKey: "u_1", action: .enter,
            identifiers: RawIdentifiers(email: " Ada+News@Example.com ", phone: "(657) 777-0000", idfa: "AEBE52E7-03EE-455A-B3C4-E57283966239", xHandle: "@AdsAPI"))
        let result = try normalizer.normalize(change)
        #expect(result.refusal == nil)
        let x = try #require(result.derived.first { $0.member.connectionID == "x-main" }?.member)
        #expect(x.identifiers == [
            HashedIdentifier(type: .email, sha256: digest("ada+news@example.com")),
            HashedIdentifier(type: .phone, sha256: digest("+16577770000")),
            HashedIdentifier(type: .idfa, sha256: digest("aebe52e7-03ee-455a-b3c4-e57283966239")),
            HashedIdentifier(type: .xHandle, sha256: digest("adsapi")),
        ])
        let tiktok = try #require(result.derived.first { $0.member.connectionID == "tiktok-eu" }?.member)
        // TikTok forwards email, phone and gaid only; its region is GB, so the US-style national number is read as British.
        #expect(tiktok.identifiers == [
            HashedIdentifier(type: .email, sha256: digest("ada@example.com")),
            HashedIdentifier(type: .phone, sha256: digest("446577770000")),
        ])
        #expect(result.derived.allSatisfy { $0.sameAudience })
    }

    @Test("a bad identifier is refused alone; the user is still sent with the good ones")
    func perIdentifierRefusal() throws {
        let result = try normalizer.normalize(MemberChange(audienceID: "aud_x", userKey: "u", action: .enter, identifiers: RawIdentifiers(email: "ada@example.com", phone: "CALL ME")))
        #expect(result.refusal == nil)
        #expect(result.identifierRefusals == [.invalidPhone])
        #expect(result.derived.first?.member.identifiers.map(\.type) == [.email])
    }

    @Test("a user with no usable identifier is refused no-identifier yet forwarded with none, so the batcher withdraws it; an exit needs none")
    func noIdentifier() throws {
        let enter = try normalizer.normalize(MemberChange(audienceID: "aud_tiktok", userKey: "u", action: .enter, identifiers: RawIdentifiers(xHandle: "@ada")))
        #expect(enter.refusal == "no-identifier")
        #expect(enter.derived.map(\.member) == [HashedMember(connectionID: "tiktok-eu", audienceID: "aud_tiktok", userKey: "u", action: .enter)])
        let exit = try normalizer.normalize(MemberChange(audienceID: "aud_tiktok", userKey: "u", action: .exit))
        #expect(exit.refusal == nil && exit.derived.first?.member.action == .exit)
    }

    @Test("no consent: refused, and withdrawn from every audience of every connection, not only those syncing the audience")
    func consentFanOut() throws {
        let result = try normalizer.normalize(MemberChange(
            audienceID: "aud_x", userKey: "u_9", action: .enter, identifiers: RawIdentifiers(email: "ada@example.com"), consent: .denied))
        #expect(result.refusal == "no-consent")
        let withdrawn = result.derived.map { "\($0.member.connectionID)/\($0.member.audienceID)/\($0.sameAudience)" }
        #expect(withdrawn == ["x-main/aud_x/true", "x-main/aud_both/false", "tiktok-eu/aud_both/false", "tiktok-eu/aud_tiktok/false"])
        #expect(result.derived.allSatisfy { $0.member.action == .consentWithdrawn && $0.member.identifiers.isEmpty })
    }

    @Test("a pre-hashed value is passed through lowercased, not hashed again")
    func preHashed() throws {
        let hex = SHA256Digest.hash("ada@example.com").hex
        let result = try normalizer.normalize(MemberChange(audienceID: "aud_x", userKey: "u", action: .enter, identifiers: RawIdentifiers(email: hex.uppercased())))
        #expect(result.derived.first?.member.identifiers == [HashedIdentifier(type: .email, sha256: digest("ada@example.com"))])
    }
}

@Suite("Normalize: placement and passthrough")
struct NormalizeProcessorTests {
    let processor: NormalizeProcessor

    init() throws {
        processor = NormalizeProcessor(config: try ConfigParser.parse(Data(TestConfigs.standard.utf8)))
    }

    func input(_ record: MemberRecord, partition: Int32 = 3) -> ConsumerRecord {
        ConsumerRecord(
            topic: TopicNames.members, partition: partition, offset: 11, key: Array("k".utf8), value: record.serializedBytes(),
            headers: [KafkaHeader(name: "cohortsync-trace", string: "cdp.audiences/1/500")])
    }

    @Test("markers are forwarded to the same partition index they were read from, with the upstream trace")
    func markers() throws {
        let marker = SnapshotMarker(audienceID: "aud_x", snapshotID: "s", phase: .end, complete: true)
        let (records, outcome, _) = processor.process(input(.snapshot(marker)))
        #expect(outcome == .control)
        #expect(records.map(\.placement) == [.partition(3)])
        #expect(try HashedRecord(serializedBytes: records[0].value) == .snapshot(marker))
        #expect(records[0].headers.string(named: "cohortsync-trace") == "cdp.audiences/1/500")
    }

    @Test("no consent on an audience no connection syncs: withdrawn from every audience of every connection too, placed by key; consent given there is no-sync")
    func unsyncedConsentFanOut() throws {
        let change = MemberChange(
            audienceID: "aud_none", userKey: "u_9", action: .enter, identifiers: RawIdentifiers(email: "ada@example.com"), consent: .denied,
            eventTimeMilliseconds: 1_795_460_400_000)
        let (records, outcome, _) = processor.process(input(.change(change)))
        #expect(outcome == .refused(reason: "no-consent"))
        #expect(records.count == 4)
        #expect(records.map { String(decoding: $0.key ?? [], as: UTF8.self) } == ["aud_x/u_9", "aud_both/u_9", "aud_both/u_9", "aud_tiktok/u_9"])
        #expect(records.map(\.placement) == Array(repeating: .byKey, count: 4))
        let members = try records.map { record throws -> HashedMember in
            guard case .member(let member) = try HashedRecord(serializedBytes: record.value) else { throw TestSupportError("expected a member") }
            return member
        }
        #expect(members.map { "\($0.connectionID)/\($0.audienceID)" } == ["x-main/aud_x", "x-main/aud_both", "tiktok-eu/aud_both", "tiktok-eu/aud_tiktok"])
        #expect(members.count == 4 && members.allSatisfy {
            $0.action == .consentWithdrawn && $0.identifiers.isEmpty && $0.userKey == "u_9" && $0.eventTimeMilliseconds == 1_795_460_400_000
        })
        var granted = change
        granted.consent = .granted
        let (none, grantedOutcome, _) = processor.process(input(.change(granted)))
        #expect(none.isEmpty && grantedOutcome == .refused(reason: "no-sync"))
    }

    @Test("members stay on their input partition; consent withdrawals for other audiences are placed by their key")
    func placement() {
        let change = MemberChange(audienceID: "aud_x", userKey: "u", action: .enter, identifiers: RawIdentifiers(email: "a@b.co"), consent: .denied)
        let (records, outcome, _) = processor.process(input(.change(change)))
        #expect(outcome == .refused(reason: "no-consent"))
        #expect(records.map(\.placement) == [.partition(3), .byKey, .byKey, .byKey])
        #expect(records.map { String(decoding: $0.key ?? [], as: UTF8.self) } == ["aud_x/u", "aud_both/u", "aud_both/u", "aud_tiktok/u"])
    }

    @Test("a member change whose action is unspecified or unknown goes to the DLQ, never guessed as an enter")
    func unknownAction() throws {
        for action in [MemberAction.unspecified, MemberAction(rawValue: 99) ?? .unspecified] {
            let change = MemberChange(audienceID: "aud_x", userKey: "u", action: action, identifiers: RawIdentifiers(email: "ada@example.com"))
            let (records, outcome, _) = processor.process(input(.change(change)))
            #expect(outcome == .deadLettered(reason: "invalid-record"))
            #expect(records.count == 1 && records.first?.topic == TopicNames.deadLetters)
            let letter = try DeadLetter(serializedBytes: try #require(records.first).value)
            #expect(letter.reason == "invalid-record" && letter.payload.isEmpty)
        }
        // A newer writer's action number reads as unspecified: the same refusal.
        var writer = ProtoWriter()
        writer.string(1, "aud_x")
        writer.string(2, "u")
        writer.int32(3, 99)
        var record = ProtoWriter()
        record.bytes(1, writer.bytes)
        let raw = ConsumerRecord(topic: TopicNames.members, partition: 0, offset: 1, key: nil, value: record.bytes)
        #expect(processor.process(raw).outcome == .deadLettered(reason: "invalid-record"))
    }

    @Test("a change that would add a user with a consent number this version does not know goes to the DLQ: never read as allowed, never guessed as denied; an exit goes on", arguments: [3, 99, -1])
    func unknownConsent(_ consent: Int32) throws {
        func raw(_ action: MemberAction) -> ConsumerRecord {
            var change = ProtoWriter()
            change.string(1, "aud_x")
            change.string(2, "u")
            change.int32(3, action.rawValue)
            var identifiers = ProtoWriter()
            identifiers.string(1, "ada@example.com")
            change.bytes(5, identifiers.bytes)
            change.int32(6, consent)
            var record = ProtoWriter()
            record.bytes(1, change.bytes)
            return ConsumerRecord(topic: TopicNames.members, partition: 0, offset: 1, key: nil, value: record.bytes)
        }
        // A removal removes whatever the consent says.
        let exit = processor.process(raw(.exit))
        #expect(exit.outcome == .hashed && exit.records.count == 1 && exit.records.first?.topic == TopicNames.hashed)
        let (records, outcome, _) = processor.process(raw(.enter))
        #expect(outcome == .deadLettered(reason: "invalid-record"))
        let letter = try DeadLetter(serializedBytes: try #require(records.first).value)
        #expect(records.count == 1 && letter.detail.contains("consent is \(consent)") && letter.payload.isEmpty)
        // The numbers it knows still read as before.
        for known in [Consent.unspecified, .granted] {
            let allowed = MemberChange(audienceID: "aud_x", userKey: "u", action: .enter, identifiers: RawIdentifiers(email: "ada@example.com"), consent: known)
            #expect(processor.process(input(.change(allowed))).outcome == .hashed)
        }
    }

    @Test("an undecodable record goes to the DLQ without its payload")
    func undecodable() throws {
        let record = ConsumerRecord(topic: TopicNames.members, partition: 0, offset: 1, key: nil, value: [0x0A, 0x05, 0x61])
        let (records, outcome, _) = processor.process(record)
        #expect(outcome == .deadLettered(reason: "invalid-record"))
        let letter = try DeadLetter(serializedBytes: records[0].value)
        #expect(letter.stage == "normalize" && letter.payload.isEmpty)
    }
}

@Suite("Normalize: start-up checks")
struct StartupCheckTests {
    @Test("members and hashed must have equal partition counts; the refusal says how to fix it")
    func alignment() {
        #expect(PartitionAlignment.mismatch(members: 12, hashed: 12) == nil)
        let message = PartitionAlignment.mismatch(members: 12, hashed: 6)
        #expect(message?.contains("Recreate cohortsync.hashed.v1 with 12 partitions") == true)
    }
}
