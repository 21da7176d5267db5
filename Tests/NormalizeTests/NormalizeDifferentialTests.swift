import Config
import Foundation
import Hashing
import Identity
import Kafka
@testable import NormalizeCore
import Stage
import TestSupport
import Testing
import Wire

/// Normalize's hot path (records read in place, one workspace per batch, work shared between connections,
/// members written from parts) against the rules applied one identifier at a time, as the stage's contract
/// states them: generated members in every combination must come out the same, record for record. (The rules
/// themselves are held to libphonenumber's and the destinations' vectors by `IdentityVectorTests`; this suite
/// holds what the stage does with them.)
@Suite("Normalize: the stage's path against the rules applied one by one")
struct NormalizeDifferentialTests {
    /// Identifier values of every shape the rules tell apart, per kind: valid in several forms, pre-hashed,
    /// padded with ASCII and Unicode spaces, malformed.
    static let values: [IdentifierType: [String]] = [
        .email: ["ada@example.com", " Ada+News@Example.COM ", "grace+x@example.org", "not-an-email", "+tag@example.com", "\u{3000}bob@example.net\u{00A0}",
            "ZOË@exämple.com", SHA256Digest.hash("ada@example.com").hex.uppercased()],
        .phone: ["(657) 777-0000", "+1 (657) 777-0000", "+44 20 7946 0958", "011 44 20 7946 0958", "020 7946 0958", "1 657 777 0000", "CALL ME",
            "+1 657 777 0000 ext. 12", "12", "+49 (0)30 123456"],
        .idfa: ["AEBE52E7-03EE-455A-B3C4-E57283966239", "aebe52e703ee455ab3c4e57283966239", "00000000-0000-0000-0000-000000000000", "bad-idfa"],
        .gaid: ["38400000-8CF0-11BD-B23E-10B96E40000D", "38400000-8cf0-11bd-b23e-10b96e40000d", "xyz"],
        .androidID: ["9774D56D682E549C", "97-74-d5-6d 68 2e 54 9c", "zz"],
        .xHandle: ["@AdsAPI", "adsapi", "@this_handle_is_far_too_long", ""],
        .xID: ["783214", " 000783214", "12a"],
    ]

    /// A small deterministic generator, so a failure names a case that happens again.
    struct Generator {
        var state: UInt64

        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Configurations whose default regions differ, agree, or are missing, so that shared phone parses are tried
    /// every way; the last has two X connections in different regions and a TikTok one that forwards IDFAs, so
    /// that work is shared between connections of one destination and an IDFA between destinations.
    static let configurations: [String] = [
        TestConfigs.standard,
        TestConfigs.standard.replacingOccurrences(of: #""defaultRegion": "GB""#, with: #""defaultRegion": "US""#),
        TestConfigs.standard.replacingOccurrences(of: #", "defaultRegion": "GB""#, with: ""),
        """
        {"connections": [
          {"id": "x-us", "destination": "x", "account": "a1", "defaultRegion": "US", "credentials": {"consumerKey": {"env": "XK"},
           "consumerSecret": {"env": "XS"}, "token": {"env": "XT"}, "tokenSecret": {"env": "XTS"}},
           "forward": ["email", "phone", "idfa", "gaid", "android_id", "x_handle", "x_id"]},
          {"id": "x-gb", "destination": "x", "account": "a2", "defaultRegion": "GB", "credentials": {"consumerKey": {"env": "XK"},
           "consumerSecret": {"env": "XS"}, "token": {"env": "XT"}, "tokenSecret": {"env": "XTS"}}, "forward": ["email", "phone", "idfa", "x_handle"]},
          {"id": "tiktok", "destination": "tiktok", "advertiser": "t1", "credentials": {"accessToken": {"env": "TT"}},
           "forward": ["email", "phone", "idfa", "gaid"]}],
         "syncs": [
          {"audience": "aud_all", "connection": "x-us"}, {"audience": "aud_all", "connection": "x-gb"}, {"audience": "aud_all", "connection": "tiktok"},
          {"audience": "aud_x", "connection": "x-us"}, {"audience": "aud_mixed", "connection": "x-gb"}, {"audience": "aud_mixed", "connection": "tiktok"}]}
        """,
    ]

    /// What the stage must write for `change` read from partition `partition`, worked out the simple way.
    static func expected(_ change: MemberChange, _ config: CohortSyncConfig, partition: Int32)
        -> (records: [(key: String, placement: ProducerRecord.Placement, member: HashedMember)], refusals: [IdentityRefusal], refusal: String?)
    {
        var records: [(key: String, placement: ProducerRecord.Placement, member: HashedMember)] = []
        var refusals: [IdentityRefusal] = []
        var delivered = false
        var noIdentifier = false
        // Consent denied: a withdrawal for each sync of the configuration (connection by connection, in their
        // order), whatever audience the change names; nothing else.
        if change.consent == .denied {
            for connection in config.connections {
                for sync in config.syncs where sync.connectionID == connection.id {
                    records.append((
                        "\(sync.audienceID)/\(change.userKey)", sync.audienceID == change.audienceID ? .partition(partition) : .byKey,
                        HashedMember(
                            connectionID: connection.id, audienceID: sync.audienceID, userKey: change.userKey, action: .consentWithdrawn,
                            eventTimeMilliseconds: change.eventTimeMilliseconds)))
                }
            }
            return (records, [], "no-consent")
        }
        for sync in config.syncs(ofAudience: change.audienceID) {
            guard let connection = config.connection(sync.connectionID) else { continue }
            var identifiers: [HashedIdentifier] = []
            for kind in IdentifierType.kinds where connection.forward.contains(kind) && !change.identifiers[kind].isEmpty {
                let value = change.identifiers[kind]
                switch connection.identityRules.digest(kind, value) {
                case .success(let digest)?:
                    let identifier = HashedIdentifier(type: kind, sha256: digest.bytes)
                    if !identifiers.contains(identifier) { identifiers.append(identifier) }
                case .failure(let refusal)?: refusals.append(refusal)
                case nil: break
                }
            }
            if identifiers.isEmpty && change.action != .exit { noIdentifier = true } else { delivered = true }
            records.append((
                "\(change.audienceID)/\(change.userKey)", .partition(partition),
                HashedMember(
                    connectionID: connection.id, audienceID: change.audienceID, userKey: change.userKey, action: change.action,
                    snapshotID: change.snapshotID, identifiers: identifiers, eventTimeMilliseconds: change.eventTimeMilliseconds)))
        }
        let refusal: String? = delivered ? nil : noIdentifier ? "no-identifier" : "no-sync"
        return (records, refusals, refusal)
    }

    /// Long and CPU-bound in a debug build: it yields after each batch, so that it never holds a thread of the
    /// pool the other suites' timing-sensitive tests run on.
    @Test("10,000 generated members in batches of 100, four configurations: every record, refusal and outcome as the rules say")
    func differential() async throws {
        var generator = Generator(state: 0x5EED_C0DE)
        var compared = 0
        var withIdentifiers = 0
        var withdrawals = 0
        var unsyncedWithdrawals = 0
        for json in Self.configurations {
            let config = try ConfigParser.parse(Data(json.utf8))
            let processor = NormalizeProcessor(config: config)
            let audiences = config.syncs.map(\.audienceID) + ["aud_unsynced"]
            var workspace = NormalizeWorkspace()
            for batch in 0..<25 {
                await Task.yield()
                var out = OutgoingRecords()
                var expectations: [(change: MemberChange, records: Int)] = []
                for index in 0..<100 {
                    var identifiers = RawIdentifiers()
                    for kind in IdentifierType.kinds where generator.next(3) != 0 {
                        let choices = try #require(Self.values[kind])
                        identifiers[kind] = choices[generator.next(choices.count)]
                    }
                    let change = MemberChange(
                        audienceID: audiences[generator.next(audiences.count)], userKey: "u\(batch)-\(index)",
                        action: [MemberAction.enter, .exit, .snapshotMember, .consentWithdrawn][generator.next(4)], snapshotID: generator.next(2) == 0 ? "" : "s\(batch)",
                        identifiers: identifiers, consent: [Consent.unspecified, .granted, .denied, .unspecified][generator.next(4)],
                        eventTimeMilliseconds: Int64(generator.next(1_000_000)))
                    let record = ConsumerRecord(
                        topic: TopicNames.members, partition: 2, offset: Int64(batch * 100 + index), key: nil, value: MemberRecord.change(change).serializedBytes(),
                        headers: [KafkaHeader(name: RecordHeaders.traceName, string: "cdp.audiences/0/\(index)")])
                    let mark = out.count
                    let (outcome, refusals) = processor.process(record, into: &out, workspace: &workspace)
                    let want = Self.expected(change, config, partition: 2)
                    #expect(refusals == want.refusals, "\(change)")
                    #expect(outcome == (want.refusal.map { .refused(reason: $0) } ?? .hashed), "\(change)")
                    expectations.append((change, out.count - mark))
                    #expect(out.count - mark == want.records.count, "\(change)")
                }
                // Decoded after the whole batch, so that every record was written into the one shared buffer.
                let written = out.records
                var position = 0
                for (change, count) in expectations {
                    let want = Self.expected(change, config, partition: 2).records
                    for (offset, expected) in want.enumerated() where offset < count {
                        let record = written[position + offset]
                        #expect(String(decoding: record.key ?? [], as: UTF8.self) == expected.key)
                        #expect(record.placement == expected.placement)
                        #expect(try HashedRecord(serializedBytes: record.value) == .member(expected.member), "\(change)")
                        compared += 1
                        if !expected.member.identifiers.isEmpty { withIdentifiers += 1 }
                        if expected.member.action == .consentWithdrawn { withdrawals += 1 }
                        if expected.member.action == .consentWithdrawn && config.syncs(ofAudience: change.audienceID).isEmpty { unsyncedWithdrawals += 1 }
                    }
                    position += count
                }
            }
        }
        // The generated members must have exercised what the test is about, not only refusals.
        #expect(compared > 10_000)
        #expect(withIdentifiers > 5_000)
        #expect(withdrawals > 1_000)
        #expect(unsyncedWithdrawals > 100, "consent denied on an audience no connection syncs")
    }
}
