@testable import BatcherCore
import Kafka
import TestSupport
import Testing
import Wire

/// A restore reads most changelog records in place and takes identifiers already in canonical order as they
/// are; what it cannot read so (keys outside ASCII, identifiers out of order, a value naming another user)
/// goes the general way. Either way the ledger must end the same.
@Suite("Batcher restore: records read in place")
struct RestoreInPlaceTests {
    /// `IdentifierSet.canonical` as first written: filter, sort, drop repeats, at most 255.
    static func reference(_ identifiers: [HashedIdentifier], forwarded: Set<IdentifierType>) -> [HashedIdentifier] {
        let kept = identifiers.filter { $0.sha256.count == 32 && forwarded.contains($0.type) }.sorted(by: IdentifierSet.precedes)
        var unique: [HashedIdentifier] = []
        for identifier in kept where unique.last != identifier { unique.append(identifier) }
        return Array(unique.prefix(255))
    }

    @Test("20,000 random identifier lists: canonical as the reference makes it, lists already canonical and views of them recognized as such")
    func canonicalMatchesReference() throws {
        var random = Fuzzer.Generator(seed: 0xCA_90)
        var view = MemberStateView()
        var alreadyCanonical = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...(Int.random(in: 0..<50, using: &random) == 0 ? 300 : 4), using: &random)
            let identifiers = (0..<count).map { _ in
                HashedIdentifier(
                    type: IdentifierType(rawValue: Int32.random(in: 0...7, using: &random))!,
                    sha256: [UInt8](repeating: UInt8.random(in: 0...3, using: &random), count: Int.random(in: 0..<10, using: &random) == 0 ? 31 : 32))
            }
            // Half of the lists in canonical order already, as normalize and the changelog write them.
            let list = Bool.random(using: &random) ? Self.reference(identifiers, forwarded: Set(IdentifierType.specified)) : identifiers
            let forwarded = Set(IdentifierType.specified.filter { _ in Int.random(in: 0..<4, using: &random) != 0 })
            #expect(IdentifierSet.canonical(list, forwarded: IdentifierSet.Kinds(forwarded)) == Self.reference(list, forwarded: forwarded))
            let isCanonical = Self.reference(list, forwarded: Set(IdentifierType.specified)) == list
            alreadyCanonical += isCanonical ? 1 : 0
            let record = BatcherState.member(MemberState(connectionID: "x-main", audienceID: "aud", userKey: "u", sent: list)).serializedBytes()
            let taken = view.read(record)
            #expect(taken)
            #expect(IdentifierSet.isCanonical(view.sent, in: view.bytes, forwarded: IdentifierSet.allKinds) == isCanonical, "\(list.map(\.type))")
        }
        #expect(alreadyCanonical > 8_000 && alreadyCanonical < 15_000, "both kinds of list occur")
    }

    @Test("members under keys outside ASCII, with identifiers out of order or repeated, restore as written in order; a value naming another user is refused")
    func generalRecordsRestoreTheSame() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        func record(_ user: String, valueUser: String? = nil, _ sent: [(IdentifierType, UInt8)]) -> ChangelogRecord {
            var key: [UInt8] = []
            BatcherState.memberKey(connectionID: "x-main", audienceID: "aud", userKey: user, into: &key)
            return ChangelogRecord(
                key: key,
                state: .member(MemberState(connectionID: "x-main", audienceID: "aud", userKey: valueUser ?? user, sent: LedgerHarness.ids(sent), flush: 0)))
        }
        let readable = run.restore([
            record("ascii", [(.email, 1), (.phone, 2)]),
            record("jos\u{E9}", [(.phone, 4), (.email, 3)]),
            record("unsorted", [(.phone, 6), (.email, 5), (.email, 5), (.unspecified, 7)]),
            record("mine", valueUser: "theirs", [(.email, 8)]),
        ])
        #expect(readable == 3, "the record whose value names another user is unreadable")
        _ = run.ledger.reconcileAfterRestore(now: run.now)
        #expect(run.flush().isEmpty, "every restored member holds what its record says: nothing to send")
        for user in ["ascii", "jos\u{E9}", "unsorted", "mine", "theirs"] { run.member(.exit, user) }
        #expect(
            LedgerHarness.lines(run.flush()).sorted()
                == ["remove ascii email:01 phone:02", "remove jos\u{E9} email:03 phone:04", "remove unsorted email:05 phone:06"])
    }
}
