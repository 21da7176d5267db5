@testable import BatcherCore
import Hashing
import Kafka
import Observability
import Testing
import Wire

/// Intent → minimal operations (DESIGN §3): each scenario feeds records to one partition's ledger and checks
/// the exact operations its flushes emit.
@Suite("Batcher membership rules")
struct MembershipRulesTests {
    @Test("an enter adds every identifier; a repeated enter adds nothing; an exit removes exactly what was added; a repeated exit nothing")
    func enterAndExit() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "u1", [(.email, 1), (.phone, 2)])
        #expect(LedgerHarness.lines(run.flush()) == ["add u1 email:01 phone:02"])
        run.member(.enter, "u1", [(.phone, 2), (.email, 1)])
        #expect(run.flush().isEmpty)
        run.member(.exit, "u1")
        #expect(LedgerHarness.lines(run.flush()) == ["remove u1 email:01 phone:02"])
        run.member(.exit, "u1")
        run.member(.exit, "never-seen")
        #expect(run.flush().isEmpty)
    }

    @Test("an identifier change removes the old set and adds the complete new one, removals first within the flush")
    func identifierChange() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "u1", [(.email, 1), (.phone, 2)])
        run.member(.enter, "u2", [(.email, 5)])
        _ = run.flush()
        run.member(.enter, "u2", [(.email, 6)])
        run.member(.enter, "u1", [(.email, 1), (.phone, 3)])
        run.member(.enter, "u3", [(.idfa, 7)])
        let batches = run.flush()
        #expect(batches.map(\.operation) == [.remove, .add])
        #expect(LedgerHarness.lines(batches) == [
            "remove u1 email:01 phone:02", "remove u2 email:05",
            "add u1 email:01 phone:03", "add u2 email:06", "add u3 idfa:07",
        ])
    }

    @Test("a member whose latest record has no usable identifier is withdrawn: what was sent is removed")
    func noIdentifierWithdraws() throws {
        var run = try LedgerHarness(LedgerConfigs.x(forward: #""email""#))
        run.member(.enter, "u1", [(.email, 1)])
        _ = run.flush()
        // Only kinds the connection does not forward, or none at all: both mean nothing usable.
        run.member(.enter, "u1", [(.phone, 2)])
        #expect(LedgerHarness.lines(run.flush()) == ["remove u1 email:01"])
        run.member(.enter, "u2", [])
        #expect(run.flush().isEmpty)
    }

    @Test("consent withdrawn removes the user; the audience's other members stay")
    func consentWithdrawn() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "u1", [(.email, 1)])
        run.member(.enter, "u2", [(.email, 2)])
        _ = run.flush()
        run.member(.consentWithdrawn, "u1")
        #expect(LedgerHarness.lines(run.flush()) == ["remove u1 email:01"])
    }

    @Test("a membership written before the user's consent withdrawal but arriving after it adds nobody, after a restore too; a later one does; one without a time goes by arrival")
    func withdrawalOrdering() throws {
        let t = LedgerHarness.start - 3_600_000
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "u1", [(.email, 1)], time: t)
        _ = run.flush()
        // A withdrawal fanned out from another audience, for a member here and for a user not here yet.
        run.member(.consentWithdrawn, "u1", time: t + 300)
        run.member(.consentWithdrawn, "u2", time: t + 300)
        #expect(LedgerHarness.lines(run.flush()) == ["remove u1 email:01"])
        // A snapshot the CDP wrote before the withdrawal, still in flight.
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "u1", [(.email, 1)], snapshot: "s1", time: t + 200)
        run.member(.snapshotMember, "u2", [(.email, 2)], snapshot: "s1", time: t + 300)
        run.member(.snapshotMember, "u3", [(.email, 3)], snapshot: "s1", time: t + 200)
        #expect(LedgerHarness.lines(run.flush()) == ["add u3 email:03"], "u1 and u2 withdrew at or after those records were written")
        #expect(run.changelog.contains { BatcherState.parseKey($0.key) == .withdrawal(connectionID: "x-main", audienceID: "aud", userKey: "u2") })

        var restored = try run.restored()
        restored.member(.enter, "u1", [(.email, 1)], time: t + 250)
        #expect(restored.flush().isEmpty, "the withdrawal's time survives a restore")
        restored.member(.enter, "u2", [(.email, 2)], time: t + 400)
        #expect(LedgerHarness.lines(restored.flush()) == ["add u2 email:02"], "consent given again after the withdrawal")
        restored.member(.enter, "u1", [(.email, 1)])
        #expect(LedgerHarness.lines(restored.flush()) == ["add u1 email:01"], "a record without a time is ordered by arrival")
    }

    @Test("a member of the open snapshot is ordered against withdrawals by when the snapshot began, whatever time it carries (ingest times members by their own records when it lost the begin), also after a restore")
    func snapshotMembersTakeTheBeginTime() throws {
        let began = LedgerHarness.start - 3_600_000
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "kept", [(.email, 9)], time: began - 10)
        _ = run.flush()
        run.snapshot(.begin, "s1", began: began)
        run.member(.consentWithdrawn, "u1", time: began + 100)
        run.member(.consentWithdrawn, "u2", time: began + 100)
        _ = run.flush()
        var restored = try run.restored()
        for (name, ledger) in [("live", run), ("restored", restored)] {
            var ledger = ledger
            ledger.member(.snapshotMember, "u1", [(.email, 1)], snapshot: "s1", time: began + 200)
            ledger.member(.snapshotMember, "u2", [(.email, 2)], snapshot: "s1")
            ledger.member(.snapshotMember, "kept", [(.email, 9)], snapshot: "s1", time: began + 200)
            #expect(ledger.flush().isEmpty, "\(name): true when s1 began, before both withdrew; kept is already there")
            ledger.member(.enter, "u1", [(.email, 1)], time: began + 300)
            #expect(LedgerHarness.lines(ledger.flush()) == ["add u1 email:01"], "\(name): an enter after the withdrawal is taken")
        }
        // A snapshot whose begin carries no time: its members keep their own.
        var untimed = try LedgerHarness(LedgerConfigs.x())
        untimed.snapshot(.begin, "s1")
        untimed.member(.consentWithdrawn, "u1", time: began + 100)
        untimed.member(.snapshotMember, "u1", [(.email, 1)], snapshot: "s1", time: began + 200)
        #expect(LedgerHarness.lines(untimed.flush()) == ["add u1 email:01"])
        restored.snapshot(.end, "s1")
        restored.snapshot(.begin, "s2", began: began + 1_000)
        restored.member(.snapshotMember, "u2", [(.email, 2)], snapshot: "s1", time: began + 200)
        #expect(LedgerHarness.lines(restored.flush()) == ["add u2 email:02"], "a member of a snapshot no longer open keeps its own time")
    }

    @Test("a snapshot member refused as older than a withdrawal still counts as seen; a withdrawal in a deleted audience holds once it is created again")
    func withdrawalEdges() throws {
        let t = LedgerHarness.start - 3_600_000
        // Removals never held: the snapshot's end would remove u1 were it not seen.
        var run = try LedgerHarness(LedgerConfigs.x(maxRemovalFraction: 1.0))
        run.member(.consentWithdrawn, "u1", time: t + 100)
        run.member(.enter, "u1", [(.email, 1)], time: t + 400)
        #expect(LedgerHarness.lines(run.flush()) == ["add u1 email:01"], "consent given again")
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "u1", [(.email, 1)], snapshot: "s1", time: t + 50)
        run.snapshot(.end, "s1")
        #expect(run.flush().isEmpty, "listed by the snapshot, so not removed by its end")

        run.lifecycle(.deleted)
        _ = run.flush()
        run.member(.consentWithdrawn, "u2", time: t + 500)
        run.lifecycle(.created)
        run.member(.enter, "u2", [(.email, 2)], time: t + 450)
        #expect(run.flush().isEmpty, "the withdrawal that arrived while the audience was deleted still counts")
    }

    @Test("a withdrawal's time is forgotten after its retention, counted from when the batcher learned of it, with a tombstone on the changelog")
    func withdrawalRetention() throws {
        let t = LedgerHarness.start
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.consentWithdrawn, "u1", time: t)
        // A clock years ahead must not make a withdrawal last years.
        run.member(.consentWithdrawn, "u9", time: t + 5 * 365 * 86_400_000)
        _ = run.flush()
        #expect(run.ledger.withdrawalCount == 2)
        run.advance(seconds: 6 * 86_400)
        run.ledger.pruneWithdrawals(now: run.now)
        run.member(.enter, "u1", [(.email, 1)], time: t - 1)
        #expect(run.flush().isEmpty, "kept for 7 days")
        run.advance(seconds: 2 * 86_400)
        run.ledger.pruneWithdrawals(now: run.now)
        _ = run.flush()
        #expect(run.ledger.withdrawalCount == 0)
        for user in ["u1", "u9"] {
            let key = try #require(run.changelog.last { BatcherState.parseKey($0.key) == .withdrawal(connectionID: "x-main", audienceID: "aud", userKey: user) })
            #expect(key.state == nil, "\(user) forgotten: a tombstone")
        }
        var restored = try run.restored()
        restored.member(.enter, "u1", [(.email, 1)], time: t - 1)
        restored.member(.enter, "u9", [(.email, 9)], time: t + 1)
        #expect(LedgerHarness.lines(restored.flush()) == ["add u1 email:01", "add u9 email:09"])
    }

    @Test("a user who enters and leaves inside one window costs nothing; changes within a window collapse to the last")
    func coalescing() throws {
        var run = try LedgerHarness(LedgerConfigs.x(maxDelaySeconds: 5))
        run.member(.enter, "u1", [(.email, 1)])
        run.member(.exit, "u1")
        run.member(.enter, "u2", [(.email, 2)])
        run.member(.enter, "u2", [(.email, 3)])
        run.member(.enter, "u2", [(.email, 4)])
        #expect(run.due().isEmpty, "flushed before maxDelaySeconds")
        run.advance(seconds: 5)
        #expect(LedgerHarness.lines(run.due()) == ["add u2 email:04"])
        #expect(run.due().isEmpty)
    }

    @Test("a complete snapshot removes the members not seen since it began; a realtime enter during it counts as seen")
    func completeSnapshot() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        for user in ["a", "b", "c", "d"] { run.member(.enter, user, [(.email, UInt8(user.utf8.first!))]) }
        _ = run.flush()
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "a", [(.email, 0x61)], snapshot: "s1")
        run.member(.snapshotMember, "b", [(.email, 0x62)], snapshot: "s1")
        run.member(.enter, "e", [(.email, 0x65)])
        run.snapshot(.end, "s1")
        #expect(LedgerHarness.lines(run.flush()) == ["remove c email:63", "remove d email:64", "add e email:65"])
    }

    @Test("an incomplete snapshot removes nobody, and its members are still applied")
    func incompleteSnapshot() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "a", [(.email, 1)])
        run.member(.enter, "b", [(.email, 2)])
        _ = run.flush()
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "c", [(.email, 3)], snapshot: "s1")
        run.snapshot(.end, "s1", complete: false)
        #expect(LedgerHarness.lines(run.flush()) == ["add c email:03"])
        // An end for a snapshot that is not open changes nothing either.
        run.snapshot(.end, "s-unknown")
        #expect(run.flush().isEmpty)
    }

    @Test("a removal above maxRemovalFraction is held; an operator's confirm applies it, a discard drops it")
    func heldRemoval() throws {
        for action in [HoldAction.confirm, .discard] {
            var run = try LedgerHarness(LedgerConfigs.x(maxRemovalFraction: 0.5))
            for user in 1...10 { run.member(.enter, "u\(user)", [(.email, UInt8(user))]) }
            _ = run.flush()
            run.snapshot(.begin, "s1")
            for user in 1...4 { run.member(.snapshotMember, "u\(user)", [(.email, UInt8(user))], snapshot: "s1") }
            run.snapshot(.end, "s1")
            #expect(run.flush().isEmpty, "6 of 10 removed is over 0.5: held")
            let held = try #require(run.ledger.holds.first)
            #expect(run.ledger.holds.count == 1 && held.heldRemovals == 6 && held.heldSnapshotID == "s1")
            // A decision about another snapshot is ignored.
            run.apply(.hold(HoldDecision(connectionID: "x-main", audienceID: "aud", action: action, snapshotID: "s0")))
            #expect(run.flush().isEmpty && run.ledger.holds.count == 1)
            // A member who came back after the hold is kept even when the hold is confirmed.
            run.member(.enter, "u5", [(.email, 5)])
            run.apply(.hold(HoldDecision(connectionID: "x-main", audienceID: "aud", action: action, snapshotID: "s1")))
            let expected = action == .confirm ? ["remove u6 email:06", "remove u7 email:07", "remove u8 email:08", "remove u9 email:09", "remove u10 email:0a"] : []
            #expect(LedgerHarness.lines(run.flush()) == expected, "\(action)")
            #expect(run.ledger.holds.isEmpty)
        }
    }

    @Test("an upstream deletion emits delete-audience, drops pending operations, ignores later records until the audience is created again")
    func audienceDeletion() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "u1", [(.email, 1)])
        _ = run.flush()
        run.member(.enter, "u2", [(.email, 2)])
        run.lifecycle(.deleted)
        #expect(LedgerHarness.lines(run.flush()) == ["delete-audience x-main/aud"])
        run.member(.enter, "u3", [(.email, 3)])
        #expect(run.flush().isEmpty)
        run.lifecycle(.created, name: "Buyers again")
        run.member(.enter, "u1", [(.email, 1)])
        let batches = run.flush()
        #expect(LedgerHarness.lines(batches) == ["add u1 email:01"], "u1 was deleted with the audience, so it is added anew")
        #expect(batches.first?.audienceName == "Buyers again")

        var keep = try LedgerHarness(LedgerConfigs.x(deleteOnUpstreamDelete: false))
        keep.member(.enter, "u1", [(.email, 1)])
        keep.member(.enter, "u2", [(.email, 2)])
        keep.member(.enter, "u3", [(.email, 3)])
        _ = keep.flush()
        keep.member(.exit, "u3")
        keep.member(.enter, "u4", [(.email, 4)])
        keep.lifecycle(.deleted)
        keep.member(.enter, "u5", [(.email, 5)])
        keep.member(.exit, "u2")
        #expect(LedgerHarness.lines(keep.flush()) == ["remove u3 email:03"], "deleteOnUpstreamDelete false: no delete; only pending removals still go")
        // The destination still holds u1 and u2: a consent withdrawal removes the user even now.
        keep.member(.consentWithdrawn, "u1")
        #expect(LedgerHarness.lines(keep.flush()) == ["remove u1 email:01"])
        keep.lifecycle(.created)
        keep.member(.exit, "u2")
        #expect(LedgerHarness.lines(keep.flush()) == ["remove u2 email:02"], "after re-creation the kept members are still known")
    }

    @Test("a begin repeated for the snapshot already open changes nothing: members seen since the first still count")
    func repeatedSnapshotBegin() throws {
        var run = try LedgerHarness(LedgerConfigs.x(maxRemovalFraction: 0.9))
        for user in 1...4 { run.member(.enter, "m\(user)", [(.email, UInt8(user))]) }
        _ = run.flush()
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "m1", [(.email, 1)], snapshot: "s1")
        run.member(.snapshotMember, "m2", [(.email, 2)], snapshot: "s1")
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "m3", [(.email, 3)], snapshot: "s1")
        run.snapshot(.end, "s1")
        #expect(LedgerHarness.lines(run.flush()) == ["remove m4 email:04"])
    }

    @Test("a member record with a malformed digest, an unknown type, an empty or huge key, too many identifiers or an unknown action is refused whole, never read as no identifiers or as an enter")
    func corruptMembersRefused() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "u1", [(.email, 1), (.phone, 2)])
        _ = run.flush()
        func refusal(_ member: HashedMember) -> String? {
            run.ledger.apply(.member(member), trace: SourcePosition(), completion: nil, now: run.now)?.reason
        }
        let good = HashedIdentifier(type: .email, sha256: LedgerHarness.digest(9))
        #expect(refusal(HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "u1", action: .enter, identifiers: [HashedIdentifier(type: .email, sha256: [1, 2, 3])])) == "invalid-digest")
        #expect(refusal(HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "u1", action: .enter, identifiers: [HashedIdentifier(type: .unspecified, sha256: LedgerHarness.digest(9))])) == "invalid-identifier")
        #expect(refusal(HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "", action: .enter, identifiers: [good])) == "invalid-user-key")
        #expect(refusal(HashedMember(connectionID: "x-main", audienceID: "aud", userKey: String(repeating: "k", count: 4_097), action: .enter, identifiers: [good])) == "invalid-user-key")
        #expect(refusal(HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "u1", action: .enter, identifiers: Array(repeating: good, count: 33))) == "too-many-identifiers")
        // An action this version does not know (or none) is never guessed as an enter: a new user stays out.
        #expect(refusal(HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "u2", action: .unspecified, identifiers: [good])) == "invalid-record")
        #expect(run.flush().isEmpty, "u1 keeps what it holds and u2 is not added")
    }

    @Test("a snapshot id or audience name over ingest's bounds is refused, never kept in state or batches; a hold decision without a known action is refused and the hold stays")
    func controlRecordBounds() throws {
        var run = try LedgerHarness(LedgerConfigs.x(maxRemovalFraction: 0.5))
        for user in 1...4 { run.member(.enter, "u\(user)", [(.email, UInt8(user))]) }
        _ = run.flush()
        func refusal(_ record: HashedRecord) -> String? {
            let refused = run.ledger.apply(record, trace: SourcePosition(), completion: nil, now: run.now)
            return refused?.detail
        }
        let longID = String(repeating: "s", count: TextBounds.snapshotID + 1)
        #expect(refusal(.snapshot(SnapshotMarker(audienceID: "aud", snapshotID: longID, phase: .begin))) == "snapshot_id has 257 bytes; at most 256")
        let longName = String(repeating: "n", count: TextBounds.audienceName + 1)
        #expect(refusal(.lifecycle(AudienceLifecycle(audienceID: "aud", name: longName, event: .renamed))) == "name has 1025 bytes; at most 1024")
        // At the bounds, both are taken.
        #expect(refusal(.lifecycle(AudienceLifecycle(audienceID: "aud", name: String(longName.dropLast()), event: .renamed))) == nil)
        run.member(.enter, "u5", [(.email, 5)])
        let named = run.flush()
        #expect(named.count == 1 && named.first?.audienceName.utf8.count == TextBounds.audienceName)
        run.snapshot(.begin, String(longID.dropLast()))
        run.member(.snapshotMember, "u1", [(.email, 1)], snapshot: String(longID.dropLast()))
        run.snapshot(.end, String(longID.dropLast()))
        #expect(run.flush().isEmpty && run.ledger.holds.count == 1, "4 of 5 removed is over 0.5: held")
        // A decision that says neither confirm nor discard is refused; the removal stays held.
        let undecided = HoldDecision(connectionID: "x-main", audienceID: "aud", action: .unspecified, snapshotID: String(longID.dropLast()))
        #expect(refusal(.hold(undecided)) != nil)
        #expect(run.flush().isEmpty && run.ledger.holds.count == 1)
    }

    @Test("a held removal is logged with its snapshot as a digest, never the id: upstream text that may hold an address")
    func holdLogged() throws {
        let hold = AudienceState(connectionID: "x-main", audienceID: "aud", heldSnapshotID: "someone@example.com", heldRemovals: 6)
        let fields = BatcherEngine.holdFields(hold, partition: 2)
        #expect(fields.map(\.0) == ["connection", "audience", "snapshot_ref", "partition", "removals"])
        #expect(fields[2].1 == .string(SHA256Digest.logReference("someone@example.com")))
        #expect(!fields.contains { "\($0.1)".contains("someone") })
    }

    @Test("an audience state read back with counters that could not be real, or naming another sync, is skipped as unreadable")
    func insaneAudienceState() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "u1", [(.email, 1)])
        _ = run.flush()
        var key: [UInt8] = []
        BatcherState.audienceKey(connectionID: "x-main", audienceID: "aud", into: &key)
        let damaged = [
            AudienceState(connectionID: "x-main", audienceID: "aud", confirmedFlush: .max),
            AudienceState(connectionID: "x-main", audienceID: "aud", snapshotSequence: .max),
            AudienceState(connectionID: "x-main", audienceID: "aud", snapshotSequence: -1),
            AudienceState(connectionID: "x-main", audienceID: "other", confirmedFlush: 3),
            AudienceState(connectionID: "x-main", audienceID: "aud", name: String(repeating: "n", count: 1025)),
        ]
        var restored = try run.restored()
        for (offset, state) in damaged.enumerated() {
            let taken = restored.ledger.restore(PartitionEntry(offset: Int64(100 + offset), key: key, value: BatcherState.audience(state).serializedBytes()))
            #expect(!taken, "\(state)")
        }
        #expect(restored.ledger.takeCounts().ignored == ["unreadable-state": damaged.count])
        // Counting on from what was restored before them works: a flush and a snapshot begin do not overflow.
        restored.member(.enter, "u2", [(.email, 2)])
        restored.snapshot(.begin, "s1")
        #expect(LedgerHarness.lines(restored.flush()) == ["add u2 email:02"])
        #expect(restored.ledger.takeCounts().ignored.isEmpty)
    }

    @Test("a connection naming one audience per identifier type gets batches per type, and a change touches only its type")
    func perIdentifierScopes() throws {
        var run = try LedgerHarness(LedgerConfigs.x(naming: "perIdentifier"))
        run.member(.enter, "u1", [(.email, 1), (.phone, 2)])
        let first = run.flush()
        #expect(LedgerHarness.lines(first) == ["[email] add u1 email:01", "[phone] add u1 phone:02"])
        #expect(first.map(\.scope) == [.email, .phone])
        run.member(.enter, "u1", [(.email, 9), (.phone, 2)])
        #expect(LedgerHarness.lines(run.flush()) == ["[email] remove u1 email:01", "[email] add u1 email:09"])
        run.lifecycle(.deleted)
        #expect(LedgerHarness.lines(run.flush()) == [
            "[email] delete-audience x-main/aud", "[phone] delete-audience x-main/aud", "[idfa] delete-audience x-main/aud",
            "[x_handle] delete-audience x-main/aud",
        ])
    }

    @Test("records of one audience reach each of its connections' ledgers; another audience's stay apart")
    func twoConnections() throws {
        var run = try LedgerHarness(LedgerConfigs.both)
        run.member(.enter, "u1", [(.email, 1)], connection: "x-main")
        run.member(.enter, "u1", [(.email, 1)], connection: "tt")
        run.member(.enter, "u2", [(.email, 2)], connection: "x-main", audience: "other")
        run.member(.enter, "u3", [(.email, 3)], connection: "tt", audience: "other")
        let batches = run.flush()
        #expect(batches.map { "\($0.destination.name) \($0.connectionID)/\($0.audienceID) \($0.users.count)" } == [
            "x x-main/aud 1", "tiktok tt/aud 1", "x x-main/other 1",
        ])
    }
}
