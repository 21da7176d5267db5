import BatcherCore
import Kafka
import Synchronization
import Testing
import Wire

/// When batches go out and how big they are: destination limits, cadences, `once`, completions, the X
/// refresh before expiry, and the changelog a takeover restores.
@Suite("Batcher flushes, cadences and state")
struct FlushScheduleTests {
    @Test("X batches hold at most 2,500 operations and TikTok batches 10,000 ids; a full audience flushes without waiting")
    func destinationLimits() throws {
        var x = try LedgerHarness(LedgerConfigs.x(cadence: "daily"))
        for user in 0..<2_499 { x.member(.enter, "u\(user)", [(.email, 1)]) }
        #expect(x.due().isEmpty, "below the limit a daily sync waits")
        x.member(.enter, "u2499", [(.email, 1)])
        x.member(.enter, "u2500", [(.email, 1)])
        let xBatches = x.due()
        #expect(xBatches.map(\.users.count) == [2_500, 1])

        var tiktok = try LedgerHarness(LedgerConfigs.tiktok)
        for user in 0..<10_001 { tiktok.member(.enter, "u\(user)", [(.email, 1)], connection: "tt") }
        #expect(tiktok.due().map(\.users.count) == [10_000, 1])
    }

    @Test("a batch also fits the record size limit of the batches topic")
    func recordSizeLimit() throws {
        var run = try LedgerHarness(LedgerConfigs.tiktok, recordBytes: 64 << 10)
        for user in 0..<2_000 { run.member(.enter, "user-\(user)", [(.email, 1), (.phone, 2), (.idfa, 3)], connection: "tt") }
        let batches = run.flush()
        #expect(batches.count > 1)
        #expect(batches.reduce(0) { $0 + $1.users.count } == 2_000)
        for batch in batches { #expect(batch.serializedBytes().count <= (64 << 10) - 4_096) }
    }

    @Test("hourly and daily syncs flush at the cadence boundary, not before")
    func cadenceBoundaries() throws {
        for (cadence, period) in [("hourly", Int64(3_600)), ("daily", Int64(86_400))] {
            var run = try LedgerHarness(LedgerConfigs.x(cadence: cadence))
            // Start just after a boundary, so the whole window lies ahead.
            run.now = (run.now / (period * 1_000) + 1) * period * 1_000 + 1_000
            run.member(.enter, "u1", [(.email, 1)])
            run.advance(seconds: period - 2)
            run.member(.exit, "u1")
            run.member(.enter, "u2", [(.email, 2)])
            #expect(run.due().isEmpty, "\(cadence): flushed inside the window")
            run.advance(seconds: 1)
            #expect(LedgerHarness.lines(run.due()) == ["add u2 email:02"], "\(cadence)")
        }
    }

    @Test("a once sync applies its first complete snapshot, then ignores later records but a consent withdrawal")
    func onceSync() throws {
        var run = try LedgerHarness(LedgerConfigs.x(cadence: "once"))
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "u1", [(.email, 1)], snapshot: "s1")
        #expect(run.due().isEmpty)
        run.snapshot(.end, "s1")
        #expect(LedgerHarness.lines(run.due()) == ["add u1 email:01"])
        run.member(.enter, "u2", [(.email, 2)])
        run.snapshot(.begin, "s2")
        run.snapshot(.end, "s2")
        #expect(run.flush().isEmpty)
        // Consent withdrawn still takes the user out, within maxDelaySeconds.
        run.member(.consentWithdrawn, "u1", time: LedgerHarness.start)
        #expect(run.due().isEmpty)
        run.advance(seconds: 5)
        #expect(LedgerHarness.lines(run.due()) == ["remove u1 email:01"])
    }

    @Test("an input batch is finished only when every flush covering its records is released")
    func completionsWaitForFlush() throws {
        var run = try LedgerHarness(LedgerConfigs.both)
        let finished = Atomic(false)
        let completion = BatchCompletion { result in finished.store((try? result.get()) != nil, ordering: .releasing) }
        run.member(.enter, "u1", [(.email, 1)], connection: "x-main", completion: completion)
        run.member(.enter, "u1", [(.email, 1)], connection: "tt", completion: completion)
        run.member(.enter, "u1", [(.email, 1)], connection: "tt", completion: completion)
        completion.release()
        #expect(!completion.isFinished, "finished before any flush")
        let plans = run.flushPlans()
        #expect(plans.count == 2)
        #expect(plans.allSatisfy { $0.completions.count == 1 && $0.completions[0] === completion })
        plans[0].completions[0].release()
        #expect(!completion.isFinished, "finished before the second audience's flush")
        plans[1].completions[0].release()
        #expect(completion.isFinished && finished.load(ordering: .acquiring))
    }

    @Test("a record ignored for the membership that still changes what the changelog keeps is finished by the due flush that writes it, within maxDelaySeconds even on a once sync; one that changes nothing at once")
    func ignoredRecordsThatChangeState() throws {
        let t = LedgerHarness.start - 3_600_000
        for (config, end) in [(LedgerConfigs.x(), "deleted"), (LedgerConfigs.x(cadence: "once"), "once applied"), (LedgerConfigs.x(cadence: "once"), "once deleted")] {
            var run = try LedgerHarness(config)
            run.snapshot(.begin, "s1")
            run.member(.snapshotMember, "u1", [(.email, 1)], snapshot: "s1")
            run.snapshot(.end, "s1")
            if end.hasSuffix("deleted") { run.lifecycle(.deleted) }
            _ = run.flush()

            let unchanged = BatchCompletion { _ in }
            run.member(.enter, "u2", [(.email, 2)], completion: unchanged)
            unchanged.release()
            #expect(unchanged.isFinished, "\(end): an ignored enter changes nothing, so nothing holds its offset")

            let withdrawal = BatchCompletion { _ in }
            run.member(.consentWithdrawn, "u9", time: t, completion: withdrawal)
            withdrawal.release()
            #expect(!withdrawal.isFinished, "\(end): the withdrawal's time is not written yet, so its offset may not be stored")
            #expect(run.due().isEmpty && !withdrawal.isFinished, "\(end): not due before maxDelaySeconds")
            run.advance(seconds: 5)
            let before = run.changelog.count
            _ = run.due()
            let written = run.changelog[before...].compactMap { BatcherState.parseKey($0.key) }
            #expect(written.contains(.withdrawal(connectionID: "x-main", audienceID: "aud", userKey: "u9")), "\(end): \(written)")
            #expect(withdrawal.isFinished, "\(end): the due flush wrote it and was released")
        }

        // A snapshot's sighting of a member withdrawn since, and back since: its seen mark is kept state too.
        var run = try LedgerHarness(LedgerConfigs.x(maxRemovalFraction: 1.0))
        run.member(.consentWithdrawn, "u1", time: t + 100)
        run.member(.enter, "u1", [(.email, 1)], time: t + 400)
        _ = run.flush()
        run.snapshot(.begin, "s1")
        let sighting = BatchCompletion { _ in }
        run.member(.snapshotMember, "u1", [(.email, 1)], snapshot: "s1", time: t + 50, completion: sighting)
        sighting.release()
        #expect(!sighting.isFinished, "the sighting is not written yet")
        run.advance(seconds: 5)
        let before = run.changelog.count
        _ = run.due()
        #expect(run.changelog[before...].compactMap { BatcherState.parseKey($0.key) }.contains(.member(connectionID: "x-main", audienceID: "aud", userKey: "u1")))
        #expect(sighting.isFinished)
    }

    @Test("the removal of a user who withdrew consent is due maxDelaySeconds after it whatever the cadence; other changes of an hourly or daily sync, and withdrawals of users not held, wait for its boundary")
    func withdrawalsDoNotWaitForTheCadence() throws {
        for cadence in ["hourly", "daily"] {
            var run = try LedgerHarness(LedgerConfigs.x(cadence: cadence))
            run.member(.enter, "u1", [(.email, 1)])
            run.member(.enter, "u2", [(.email, 2)])
            _ = run.flush()
            run.member(.exit, "u2")
            run.member(.consentWithdrawn, "z", time: LedgerHarness.start)
            run.advance(seconds: 5)
            #expect(run.due().isEmpty, "\(cadence): an exit waits for the boundary, and so does the withdrawal of a user the destination does not hold")
            run.member(.consentWithdrawn, "u1", time: LedgerHarness.start)
            run.advance(seconds: 4)
            #expect(run.due().isEmpty, "\(cadence): not before maxDelaySeconds")
            run.advance(seconds: 1)
            #expect(LedgerHarness.lines(run.due()) == ["remove u1 email:01", "remove u2 email:02"], "\(cadence): the withdrawal takes what waited with it")
            run.member(.exit, "u3")
            run.member(.enter, "u4", [(.email, 4)])
            run.advance(seconds: 60)
            #expect(run.due().isEmpty, "\(cadence): after the withdrawal's flush, the cadence again")
        }
    }

    @Test("a restore counts the members the destination still holds of each sync the configuration no longer has; one whose members all left is not named")
    func unconfiguredSyncs() throws {
        var run = try LedgerHarness(LedgerConfigs.both)
        run.member(.enter, "u1", [(.email, 1)], connection: "x-main")
        run.member(.enter, "u2", [(.email, 2)], connection: "x-main")
        run.member(.enter, "u1", [(.email, 1)], connection: "x-main", audience: "other")
        run.member(.enter, "u1", [(.email, 1)], connection: "tt")
        _ = run.flush()
        run.member(.exit, "u1", connection: "x-main", audience: "other")
        run.member(.exit, "u2", connection: "x-main")
        _ = run.flush()
        var same = try run.restored()
        #expect(same.ledger.takeUnconfiguredSyncs().isEmpty)
        var onlyTikTok = try run.restored(LedgerConfigs.tiktok)
        #expect(onlyTikTok.ledger.takeUnconfiguredSyncs() == ["x-main/aud": 1], "other's only member and u2 left: tombstones")
        #expect(onlyTikTok.ledger.takeUnconfiguredSyncs().isEmpty, "taken once")
    }

    @Test("X memberships sent over a year ago are added again; TikTok's and recent ones are not")
    func xRefreshBeforeExpiry() throws {
        var run = try LedgerHarness(LedgerConfigs.both)
        run.member(.enter, "old", [(.email, 1)], connection: "x-main")
        run.member(.enter, "old", [(.email, 1)], connection: "tt")
        _ = run.flush()
        run.advance(seconds: 200 * 86_400)
        run.member(.enter, "recent", [(.email, 2)], connection: "x-main")
        _ = run.flush()
        run.advance(seconds: 166 * 86_400)
        let year: Int64 = 365 * 86_400_000
        #expect(run.ledger.refreshX(sentBefore: run.now - year, now: run.now) == 1)
        #expect(LedgerHarness.lines(run.flush()) == ["add old email:01"])
        // Sent again just now: not due again for a year.
        #expect(run.ledger.refreshX(sentBefore: run.now - year, now: run.now) == 0)
        run.advance(seconds: 200 * 86_400)
        #expect(run.ledger.refreshX(sentBefore: run.now - year, now: run.now) == 1, "the recent member is due now")
        #expect(LedgerHarness.lines(run.flush()) == ["add recent email:02"])
    }

    @Test("a restored ledger continues exactly where the changelog says: no repeat, exact removals, snapshot presence kept")
    func restoreFromChangelog() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "a", [(.email, 1), (.phone, 2)])
        run.member(.enter, "b", [(.email, 3)])
        run.member(.enter, "c", [(.email, 4)])
        _ = run.flush()
        run.member(.exit, "c")
        run.snapshot(.begin, "s1")
        run.member(.snapshotMember, "a", [(.email, 1), (.phone, 2)], snapshot: "s1")
        _ = run.flush()
        #expect(run.changelog.contains { $0.state == nil }, "c's removal writes a tombstone")

        var restored = try run.restored()
        restored.member(.enter, "a", [(.email, 1), (.phone, 2)])
        restored.member(.exit, "c")
        #expect(restored.flush().isEmpty, "the restored state already holds a and not c")
        restored.snapshot(.end, "s1")
        #expect(LedgerHarness.lines(restored.flush()) == ["remove b email:03"], "a was seen in s1 before the takeover, b was not")
    }

    @Test(
        "a crash after any step of a flush leaves a changelog from which the replay ends exactly right",
        arguments: [CrashPoint.afterIntent, .afterBatches, .afterSettle])
    func crashDuringFlush(at crash: CrashPoint) throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        var destination = Set<String>()
        func apply(_ batches: [Batch]) {
            for batch in batches {
                for user in batch.users {
                    for identifier in user.identifiers {
                        let digest = "\(identifier.type.name):\(identifier.sha256[0])"
                        if batch.operation == .add { destination.insert(digest) } else { destination.remove(digest) }
                    }
                }
            }
        }
        run.member(.enter, "kept", [(.email, 1)])
        run.member(.enter, "leaving", [(.email, 2)])
        run.member(.enter, "changing", [(.email, 3)])
        apply(run.flush())
        // The window that crashes: each kind of change once.
        var window: [HashedMember] = [
            HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "leaving", action: .exit),
            HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "changing", action: .enter, identifiers: LedgerHarness.ids([(.email, 4)])),
            HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "new", action: .enter, identifiers: LedgerHarness.ids([(.email, 5)])),
        ]
        for member in window { run.apply(.member(member)) }
        let plan = try #require(run.flushPlans().first)
        var written = run.changelog.dropLast(plan.intent.count + plan.settle.count) + plan.intent
        if crash != .afterIntent { apply(plan.batches) }
        if crash == .afterSettle { written += plan.settle }
        // The replacement restores what reached the changelog and reads the window again; then the users'
        // next changes arrive in a later window (the changed user leaves, the new one changes).
        var restored = try LedgerHarness(run.configJSON)
        restored.restore(written)
        _ = restored.ledger.reconcileAfterRestore(now: restored.now)
        for member in window { restored.apply(.member(member)) }
        apply(restored.flush())
        #expect(destination == ["email:1", "email:4", "email:5"], "\(crash): after the replay")
        window = [
            HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "changing", action: .exit),
            HashedMember(connectionID: "x-main", audienceID: "aud", userKey: "new", action: .enter, identifiers: LedgerHarness.ids([(.email, 6)])),
        ]
        for member in window { restored.apply(.member(member)) }
        apply(restored.flush())
        #expect(destination == ["email:1", "email:6"], "\(crash): after the next changes")
    }

    enum CrashPoint: CaseIterable, Sendable { case afterIntent, afterBatches, afterSettle }

    @Test("digests of kinds a connection stops forwarding are removed, and the member is added with what is left")
    func forwardedKindsChange() throws {
        var run = try LedgerHarness(LedgerConfigs.x(forward: #""email", "phone""#))
        run.member(.enter, "u1", [(.email, 1), (.phone, 2)])
        run.member(.enter, "u2", [(.phone, 3)])
        run.member(.enter, "u3", [(.email, 4)])
        _ = run.flush()
        var restored = try run.restored(LedgerConfigs.x(forward: #""email""#))
        #expect(restored.ledger.reconcileAfterRestore(now: restored.now).unforwarded == 2)
        #expect(LedgerHarness.lines(restored.flush()) == ["remove u1 email:01 phone:02", "remove u2 phone:03", "add u1 email:01"])
        // A kind forwarded from now on is added with the member's next record.
        var widened = try run.restored(LedgerConfigs.x(forward: #""email", "phone", "idfa""#))
        #expect(widened.ledger.reconcileAfterRestore(now: widened.now).unforwarded == 0)
        widened.member(.enter, "u3", [(.email, 4), (.idfa, 5)])
        #expect(LedgerHarness.lines(widened.flush()) == ["remove u3 email:04", "add u3 email:04 idfa:05"])
    }

    @Test("a changelog record that cannot be read is skipped and counted; the rest restores")
    func unreadableChangelogRecord() throws {
        var run = try LedgerHarness(LedgerConfigs.x())
        run.member(.enter, "a", [(.email, 1)])
        run.member(.enter, "b", [(.email, 2)])
        _ = run.flush()
        var restored = try LedgerHarness(run.configJSON)
        var key: [UInt8] = []
        BatcherState.memberKey(connectionID: "x-main", audienceID: "aud", userKey: "c", into: &key)
        let damaged = restored.ledger.restore(PartitionEntry(offset: 0, key: key, value: [0x6d, 0x37, 0xff, 0xff, 0xff, 0xff]))
        let badKey = restored.ledger.restore(PartitionEntry(offset: 1, key: [1, 2, 3], value: []))
        #expect(!damaged && !badKey)
        let readable = restored.restore(run.changelog, firstOffset: 2)
        #expect(readable == run.changelog.count && readable > 0)
        #expect(restored.ledger.takeCounts().ignored == ["unreadable-state": 2])
        #expect(restored.ledger.members.map(\.count) == [2])
    }

    @Test("changelog keys are length-prefixed: ids containing the separator of another cannot collide")
    func changelogKeys() {
        var first: [UInt8] = []
        var second: [UInt8] = []
        BatcherState.memberKey(connectionID: "a", audienceID: "b/c", userKey: "d", into: &first)
        BatcherState.memberKey(connectionID: "a/b", audienceID: "c", userKey: "d", into: &second)
        #expect(first != second)
        #expect(BatcherState.parseKey(first) == .member(connectionID: "a", audienceID: "b/c", userKey: "d"))
        var audience: [UInt8] = []
        BatcherState.audienceKey(connectionID: "", audienceID: "x", into: &audience)
        #expect(BatcherState.parseKey(audience) == .audience(connectionID: "", audienceID: "x"))
        #expect(BatcherState.parseKey([UInt8(ascii: "m"), 9, 1]) == nil)
    }
}
