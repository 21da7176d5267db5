@testable import BatcherCore
import Testing
import Wire

/// A restore reads most changelog records in place and takes identifiers already in canonical order as they
/// are; what it cannot read so (keys outside ASCII, identifiers out of order, a value naming another user)
/// goes the general way. Either way the ledger must end the same.
@Suite("Batcher restore: records read in place")
struct RestoreInPlaceTests {
    @Test("members under keys outside ASCII, with identifiers out of order or repeated, restore as written in order; a value naming another user is refused")
    func generalRecordsRestoreTheSame() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        let readable = run.restore([
            Self.record("ascii", [(.email, 1), (.phone, 2)]),
            Self.record("jos\u{E9}", [(.phone, 4), (.email, 3)]),
            Self.record("unsorted", [(.phone, 6), (.email, 5), (.email, 5), (.unspecified, 7)]),
            Self.record("mine", valueUser: "theirs", [(.email, 8)]),
        ])
        #expect(readable == 3, "the record whose value names another user is unreadable")
        _ = run.ledger.reconcileAfterRestore(now: run.now)
        #expect(run.flush().isEmpty, "every restored member holds what its record says: nothing to send")
        for user in ["ascii", "jos\u{E9}", "unsorted", "mine", "theirs"] { run.member(.exit, user) }
        #expect(
            LedgerHarness.lines(run.flush()).sorted()
                == ["remove ascii email:01 phone:02", "remove jos\u{E9} email:03 phone:04", "remove unsorted email:05 phone:06"])
    }

    @Test("a member read in place keeps its snapshot sighting, its flush and what it held before; records of two syncs in turn each reach their own")
    func inPlaceFieldsAndSyncs() throws {
        var run = try LedgerHarness(LedgerConfigs.both)
        var audienceKey: [UInt8] = []
        BatcherState.audienceKey(connectionID: "x-main", audienceID: "aud", into: &audienceKey)
        let readable = run.restore([
            ChangelogRecord(
                key: audienceKey,
                state: .audience(AudienceState(connectionID: "x-main", audienceID: "aud", snapshotSequence: 1, openSnapshotID: "s1", confirmedFlush: 4))),
            // Seen by the open snapshot; another not seen since; one of an unconfirmed flush (5 > 4) that held email 09.
            Self.record("seen", [(.email, 1)], seen: 1),
            Self.record("unseen", [(.email, 2)], seen: 0),
            Self.record("doubt", [(.email, 3)], seen: 1, flush: 5, previous: [(.email, 9)]),
            // The same user in both syncs, records alternating: each sync keeps its own digests.
            Self.record("both", [(.email, 4)], seen: 1),
            Self.record("both", connection: "tt", [(.email, 5)]),
            Self.record("other", [(.email, 6)], seen: 1),
            Self.record("other", connection: "tt", [(.email, 7)]),
        ])
        #expect(readable == 8)
        #expect(run.ledger.reconcileAfterRestore(now: run.now).unconfirmed == 1)
        #expect(LedgerHarness.lines(run.flush()) == ["remove doubt email:03 email:09", "add doubt email:03"], "sent again: removal of both, then the add")
        run.snapshot(.end, "s1")
        #expect(LedgerHarness.lines(run.flush()) == ["remove unseen email:02"], "only the member not seen since s1 began")
        for user in ["both", "other"] {
            run.member(.exit, user)
            run.member(.exit, user, connection: "tt")
        }
        #expect(
            LedgerHarness.lines(run.flush()).sorted()
                == ["remove both email:04", "remove both email:05", "remove other email:06", "remove other email:07"])
    }

    static func record(
        _ user: String, valueUser: String? = nil, connection: String = "x-main", _ sent: [(IdentifierType, UInt8)], seen: Int64 = 0, flush: Int64 = 0,
        previous: [(IdentifierType, UInt8)] = []
    ) -> ChangelogRecord {
        var key: [UInt8] = []
        BatcherState.memberKey(connectionID: connection, audienceID: "aud", userKey: user, into: &key)
        return ChangelogRecord(
            key: key,
            state: .member(MemberState(
                connectionID: connection, audienceID: "aud", userKey: valueUser ?? user, sent: LedgerHarness.ids(sent), seenSequence: seen, flush: flush,
                previous: LedgerHarness.ids(previous))))
    }
}
