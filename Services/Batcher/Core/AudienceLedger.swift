import Config
import Kafka
import Wire

/// One sync (an upstream audience to one connection) within one partition: what the destination holds
/// for each member, the changes not yet flushed, and the bookkeeping a snapshot, a hold or a deletion needs.
///
/// Changes are coalesced until the flush: each pending member carries only the identifiers it should hold
/// then, and the flush sends the difference from what it holds now. A user who enters and leaves within one
/// window costs nothing; a repeated enter or exit changes nothing.
struct AudienceLedger {
    enum PendingChange: Equatable {
        /// Hold exactly these identifiers (canonical order; empty: hold nothing).
        case hold([HashedIdentifier])
        /// Send the held identifiers again (X expires memberships after 13 months).
        case refresh
    }

    /// Why a record changed nothing here.
    enum Ignored: String, CaseIterable {
        case audienceDeleted = "audience-deleted"
        case onceApplied = "once-applied"
        case unknownSnapshot = "unknown-snapshot"
        case unknownHold = "unknown-hold"
        case repeatedBegin = "repeated-snapshot-begin"
        /// A membership the CDP wrote before the user's last consent withdrawal, arriving after it.
        case withdrawnSince = "withdrawn-since"
    }

    /// How long a withdrawal's time is kept, from when the batcher learned of it, to refuse memberships
    /// written before it: far longer than any record stays in flight between the CDP and the batcher.
    static let withdrawalRetention: Int64 = 7 * 86_400_000

    /// A user's last consent withdrawal: its event time, and when this ledger learned of it.
    struct Withdrawal: Equatable {
        var at: Int64
        var recordedAt: Int64
    }

    let connection: CohortSyncConfig.Connection
    let sync: CohortSyncConfig.Sync
    /// The kinds the connection forwards, as `IdentifierSet` checks them.
    private let forwarded: IdentifierSet.Kinds
    private(set) var state: AudienceState
    private(set) var table = MemberTable()
    private(set) var pending: [Int32: PendingChange] = [:]
    /// Members restored from an unconfirmed flush, with what the destination may hold besides their digests:
    /// their next flush removes both before adding what they should hold.
    private var unconfirmed: [Int32: [HashedIdentifier]] = [:]
    /// While restoring: what members held before their last flush, until it is known whether it was confirmed.
    private var restoredPrevious: [Int32: [HashedIdentifier]] = [:]
    /// Slots whose changelog record is out of date (the `MemberTable.dirty` flag set).
    private var dirty: [Int32] = []
    /// Each user's last consent withdrawal, for `withdrawalRetention`; and the users whose changelog record
    /// of it is out of date (absent from `withdrawals`: a tombstone is due).
    private(set) var withdrawals: [String: Withdrawal] = [:]
    private var dirtyWithdrawals: Set<String> = []
    private var stateDirty = false
    private var deleteRequested = false
    private var flushRequested = false
    /// When the oldest unflushed work arrived (milliseconds since the epoch).
    private(set) var workSince: Int64?
    /// When the oldest unflushed removal of a user who withdrew consent was queued: it is due `maxDelaySeconds`
    /// later whatever the cadence, since such a user may not wait for an hourly or daily sync (or a `once`
    /// sync's end). Withdrawals of users the destination does not hold start no such clock.
    private var withdrawalSince: Int64?
    private var waiting: [BatchCompletion] = []
    private var trace = SourcePosition()

    init(connection: CohortSyncConfig.Connection, sync: CohortSyncConfig.Sync) {
        self.connection = connection
        self.sync = sync
        forwarded = IdentifierSet.Kinds(connection.forward)
        state = AudienceState(connectionID: connection.id, audienceID: sync.audienceID)
    }

    var perIdentifier: Bool { connection.audienceNaming == .perIdentifier }
    var pendingCount: Int { pending.count }
    var memberCount: Int { table.liveCount }
    var isHolding: Bool { state.heldSequence != 0 }
    var hasWork: Bool { !pending.isEmpty || !dirty.isEmpty || !dirtyWithdrawals.isEmpty || stateDirty || deleteRequested || !waiting.isEmpty }

    // MARK: Records

    /// What one member record did.
    struct Applied {
        /// Why it changed no membership; nil when it was taken into account.
        var ignored: Ignored?
        /// Whether it changed what the changelog keeps even so (a consent withdrawal's time, a snapshot's
        /// sighting of a withdrawn member): its offset must then wait for the flush that writes that down.
        var changedState = false
    }

    /// Applies one member record.
    mutating func apply(_ member: HashedMember, now: Int64) -> Applied {
        var changedState = false
        // Kept whatever the audience's state: one deleted or applied once now may take members again later.
        if member.action == .consentWithdrawn, member.eventTimeMilliseconds > withdrawals[member.userKey]?.at ?? 0 {
            withdrawals[member.userKey] = Withdrawal(at: member.eventTimeMilliseconds, recordedAt: now)
            dirtyWithdrawals.insert(member.userKey)
            workSince = workSince ?? now
            changedState = true
        }
        // An audience deleted upstream but kept at the destination still loses a user who withdrew consent.
        if state.deleted && !(member.action == .consentWithdrawn && !sync.deleteOnUpstreamDelete) {
            return Applied(ignored: .audienceDeleted, changedState: changedState)
        }
        // An applied `once` sync takes nothing more, except that a user who withdraws consent still leaves it.
        if sync.cadence == .once && state.onceApplied && member.action != .consentWithdrawn {
            return Applied(ignored: .onceApplied, changedState: changedState)
        }
        switch member.action {
        case .unspecified:
            // Refused before it gets here (`PartitionLedger.refusal`); never taken as an enter.
            break
        case .enter, .snapshotMember:
            // Event time 0 is unknown: such a record is ordered by arrival alone. A member of the open snapshot
            // was true when it began, whatever time it carries (ingest times members by their own records when
            // it lost the begin).
            var time = member.eventTimeMilliseconds
            if member.action == .snapshotMember, member.snapshotID == state.openSnapshotID, state.openSnapshotBeganAtMilliseconds > 0 {
                time = time == 0 ? state.openSnapshotBeganAtMilliseconds : min(time, state.openSnapshotBeganAtMilliseconds)
            }
            if time != 0, let withdrawn = withdrawals[member.userKey], time <= withdrawn.at {
                // Still seen by its snapshot: a member who holds something now (entered again since) stays.
                if member.action == .snapshotMember, let slot = table.find(member.userKey),
                    table.setSeen(slot, UInt32(truncatingIfNeeded: state.snapshotSequence)) {
                    markDirty(slot, now: now)
                    changedState = true
                }
                return Applied(ignored: .withdrawnSince, changedState: changedState)
            }
            let slot = table.findOrInsert(member.userKey)
            if table.setSeen(slot, UInt32(truncatingIfNeeded: state.snapshotSequence)) { markDirty(slot, now: now) }
            desire(slot, IdentifierSet.canonical(member.identifiers, forwarded: forwarded), now: now)
        case .exit, .consentWithdrawn:
            guard let slot = table.find(member.userKey) else { break }
            desire(slot, [], now: now)
            if member.action == .consentWithdrawn && pending[slot] != nil { withdrawalSince = withdrawalSince ?? now }
        }
        return Applied()
    }

    mutating func beginSnapshot(_ marker: SnapshotMarker, now: Int64) -> Ignored? {
        if state.deleted { return .audienceDeleted }
        if sync.cadence == .once && state.onceApplied { return .onceApplied }
        // The begin of the snapshot already open, repeated: the members seen since the first still count.
        if !state.openSnapshotID.isEmpty && state.openSnapshotID == marker.snapshotID { return .repeatedBegin }
        state.snapshotSequence += 1
        state.openSnapshotID = marker.snapshotID
        state.openSnapshotBeganAtMilliseconds = marker.beganAtMilliseconds
        markState(now: now)
        return nil
    }

    /// What a snapshot end did here.
    enum SnapshotEnd: Equatable {
        case applied(removals: Int)
        case incomplete
        case held(removals: Int)
        case ignored(Ignored)
    }

    /// Ends the open snapshot: when complete, every member not seen since it began is to be removed, unless
    /// that is more than the sync's `maxRemovalFraction` of the audience (then it is held for an operator).
    mutating func endSnapshot(_ marker: SnapshotMarker, now: Int64) -> SnapshotEnd {
        if state.deleted { return .ignored(.audienceDeleted) }
        if sync.cadence == .once && state.onceApplied { return .ignored(.onceApplied) }
        guard !state.openSnapshotID.isEmpty, marker.snapshotID == state.openSnapshotID else { return .ignored(.unknownSnapshot) }
        state.openSnapshotID = ""
        state.openSnapshotBeganAtMilliseconds = 0
        markState(now: now)
        guard marker.complete else { return .incomplete }
        let sequence = UInt32(truncatingIfNeeded: state.snapshotSequence)
        let (leavers, members) = unseen(since: sequence)
        if sync.cadence == .once {
            state.onceApplied = true
            flushRequested = true
        }
        if members > 0, Double(leavers.count) > sync.maxRemovalFraction * Double(members) {
            state.heldSequence = state.snapshotSequence
            state.heldSnapshotID = marker.snapshotID
            state.heldRemovals = Int64(leavers.count)
            // Written to the changelog at once: `cohortsync holds list` reads it there.
            flushRequested = true
            return .held(removals: leavers.count)
        }
        clearHold()
        for slot in leavers { desire(slot, [], now: now) }
        return .applied(removals: leavers.count)
    }

    /// Applies an operator's decision on the held removal; ignored when nothing or another snapshot is held.
    mutating func decide(_ decision: HoldDecision, now: Int64) -> (removals: Int, ignored: Ignored?) {
        guard isHolding, decision.snapshotID.isEmpty || decision.snapshotID == state.heldSnapshotID else { return (0, .unknownHold) }
        var removals = 0
        if decision.action == .confirm {
            let leavers = unseen(since: UInt32(truncatingIfNeeded: state.heldSequence)).leavers
            for slot in leavers { desire(slot, [], now: now) }
            removals = leavers.count
        }
        clearHold()
        markState(now: now)
        flushRequested = true
        return (removals, nil)
    }

    mutating func lifecycle(_ event: AudienceLifecycle, now: Int64) {
        switch event.event {
        case .created, .renamed, .unspecified:
            if !event.name.isEmpty { state.name = event.name }
            if event.event == .created { state.deleted = false }
        case .deleted:
            if sync.deleteOnUpstreamDelete {
                // Nothing pending goes out any more and every member is gone: the audience itself is deleted.
                pending.removeAll()
                for slot in table.allSlots where table.holds(slot) || table.has(slot, flag: MemberTable.persisted) {
                    table.setDigests(slot, [])
                    markDirty(slot, now: now)
                }
            } else {
                // The destination keeps the audience and its members: only pending removals still go out, and
                // the members stay known, so a consent withdrawal or a later exit can still remove them.
                pending = pending.filter { $0.value == .hold([]) }
            }
            state.deleted = true
            state.openSnapshotID = ""
            state.openSnapshotBeganAtMilliseconds = 0
            clearHold()
            deleteRequested = sync.deleteOnUpstreamDelete
            flushRequested = true
        }
        markState(now: now)
    }

    /// Registers `completion` as covered by this audience's next flush (once per input batch), which is
    /// then due by the cadence like any change.
    mutating func cover(_ completion: BatchCompletion?, trace position: SourcePosition, now: Int64) {
        trace = position
        guard let completion, waiting.last !== completion else { return }
        completion.hold()
        waiting.append(completion)
        workSince = workSince ?? now
    }

    // MARK: Sweeps

    /// Forgets withdrawals learned of more than `withdrawalRetention` ago (their changelog records become
    /// tombstones).
    mutating func pruneWithdrawals(now: Int64) {
        let expired = withdrawals.compactMap { $0.value.recordedAt < now - Self.withdrawalRetention ? $0.key : nil }
        guard !expired.isEmpty else { return }
        for userKey in expired { withdrawals[userKey] = nil }
        dirtyWithdrawals.formUnion(expired)
        workSince = workSince ?? now
    }

    /// Queues a re-add of every member whose digests were sent before `cutoff` (X's 13-month expiry).
    mutating func refresh(sentBefore cutoff: Int64, now: Int64) -> Int {
        let cutoffMinutes = UInt32(clamping: max(cutoff, 0) / 60_000)
        var count = 0
        for slot in table.allSlots where table.holds(slot) && pending[slot] == nil && table.sentAtMinutes(slot) < cutoffMinutes {
            pending[slot] = .refresh
            count += 1
        }
        if count > 0 { workSince = workSince ?? now }
        return count
    }

    /// Removes the digests of kinds the connection no longer forwards (its configuration changed): those
    /// members are sent again with what is left.
    mutating func dropUnforwarded(now: Int64) -> Int {
        var count = 0
        for slot in table.allSlots where table.holds(slot) && pending[slot] == nil {
            let held = table.digests(slot)
            let kept = IdentifierSet.canonical(held, forwarded: forwarded)
            if kept != held {
                desire(slot, kept, now: now)
                count += 1
            }
        }
        return count
    }

    // MARK: Flushing

    /// Whether the work here is due: at the destination's batch size, at the cadence boundary (realtime:
    /// `maxDelaySeconds` after the oldest change), or at once for deletions, decisions and `once` snapshots;
    /// removals of users who withdrew consent `maxDelaySeconds` after the oldest, whatever the cadence.
    func isDue(now: Int64, limits: DestinationLimits) -> Bool {
        guard hasWork, let since = workSince else { return false }
        if flushRequested || deleteRequested || pending.count >= limits.maxUsers || dirty.count >= Self.maxDirty { return true }
        let maxDelay = Int64(sync.maxDelaySeconds) * 1_000
        if let withdrawalSince, now - withdrawalSince >= maxDelay { return true }
        switch sync.cadence {
        case .realtime: return now - since >= maxDelay
        case .hourly: return now / 3_600_000 > since / 3_600_000
        case .daily: return now / 86_400_000 > since / 86_400_000
        // Its snapshot's changes wait for that snapshot's end. Applied or deleted, it sends nothing more but
        // removals of users who withdrew consent (the rule above); what else is left is bookkeeping (a
        // withdrawal's time, a rename, a pruned withdrawal) whose input offsets wait for it, so it is written at
        // the realtime pace.
        case .once: return (state.onceApplied || state.deleted) && now - since >= maxDelay
        }
    }

    /// Changelog records waiting before a flush is due whatever the cadence: a re-sync of a large audience
    /// changes no membership but every member's snapshot sequence.
    static let maxDirty = 100_000

    /// Turns everything pending into batches and changelog records (see `FlushPlan` for their order) and
    /// takes the covered completions.
    mutating func flush(now: Int64, limits: DestinationLimits, nextBatchID: () -> String) -> FlushPlan {
        var plan = FlushPlan(connectionID: connection.id, audienceID: sync.audienceID, destination: connection.destination)
        plan.trace = trace
        state.confirmedFlush += 1
        var removals: [IdentifierType: [BatchUser]] = [:]
        var additions: [IdentifierType: [BatchUser]] = [:]
        /// What each member whose digests this flush sends held before (or may have held, if unconfirmed).
        var before: [Int32: [HashedIdentifier]] = [:]
        let nowMinutes = UInt32(clamping: max(now, 0) / 60_000)
        for slot in pending.keys.sorted() {
            let held = table.digests(slot)
            let change = pending[slot]!
            let wanted: [HashedIdentifier]
            switch change {
            case .hold(let identifiers): wanted = identifiers
            case .refresh: wanted = held
            }
            // After an unconfirmed flush the destination may hold the old digests or the new: remove both.
            let doubt = unconfirmed.removeValue(forKey: slot)
            let possiblyHeld = doubt.map { IdentifierSet.canonical(held + $0, forwarded: IdentifierSet.allKinds) } ?? held
            let key = table.userKey(slot)
            let heldByScope = IdentifierSet.byScope(possiblyHeld, perIdentifier: perIdentifier)
            let wantedByScope = IdentifierSet.byScope(wanted, perIdentifier: perIdentifier)
            var addedScopes = 0
            for scope in Set(heldByScope.keys).union(wantedByScope.keys).sorted(by: { $0.rawValue < $1.rawValue }) {
                let old = heldByScope[scope] ?? []
                let new = wantedByScope[scope] ?? []
                guard doubt != nil || change == .refresh || old != new else { continue }
                // A removal deletes the whole matched user, so a change is a removal then a complete add.
                if !old.isEmpty && (change != .refresh || doubt != nil) { removals[scope, default: []].append(BatchUser(userKey: key, identifiers: old)) }
                if !new.isEmpty {
                    additions[scope, default: []].append(BatchUser(userKey: key, identifiers: new))
                    addedScopes += 1
                }
            }
            if wanted != held || doubt != nil || change == .refresh { before[slot] = possiblyHeld }
            if wanted != held { table.setDigests(slot, wanted) }
            // The expiry clock restarts only when everything held was added again (one scope may be untouched).
            if !wanted.isEmpty && addedScopes == wantedByScope.count { table.setSentAt(slot, minutes: nowMinutes) }
            markDirty(slot, now: now)
        }
        pending.removeAll(keepingCapacity: true)
        if deleteRequested {
            let scopes = perIdentifier ? connection.forward.sorted { $0.rawValue < $1.rawValue } : [.unspecified]
            for scope in scopes {
                plan.batches.append(batch(.deleteAudience, scope: scope, users: [], now: now, id: nextBatchID()))
            }
        }
        for scope in Set(removals.keys).union(additions.keys).sorted(by: { $0.rawValue < $1.rawValue }) {
            for chunk in limits.chunks(removals[scope] ?? []) {
                plan.batches.append(batch(.remove, scope: scope, users: Array(chunk), now: now, id: nextBatchID()))
            }
            for chunk in limits.chunks(additions[scope] ?? []) {
                plan.batches.append(batch(.add, scope: scope, users: Array(chunk), now: now, id: nextBatchID()))
            }
        }
        (plan.intent, plan.settle) = changelogRecords(before: before)
        plan.completions = waiting
        waiting.removeAll()
        deleteRequested = false
        flushRequested = false
        stateDirty = false
        workSince = nil
        withdrawalSince = nil
        if table.wantsCompaction && unconfirmed.isEmpty { table.compact() }
        return plan
    }

    // MARK: Restore

    mutating func restore(_ member: MemberState) {
        let slot = table.findOrInsert(member.userKey)
        table.setDigests(slot, IdentifierSet.canonical(member.sent, forwarded: IdentifierSet.allKinds))
        restored(slot, seen: member.seenSequence, updatedAt: member.updatedAtMilliseconds, flush: member.flush, previous: member.previous)
    }

    /// `restore` of a member record read in place, the user key its changelog key's bytes.
    mutating func restore(_ member: MemberStateView, userKey: Span<UInt8>) {
        let slot = table.findOrInsert(userKey)
        if IdentifierSet.isCanonical(member.sent, in: member.bytes, forwarded: IdentifierSet.allKinds) {
            table.setDigests(slot, member.sent, in: member.bytes)
        } else {
            table.setDigests(slot, IdentifierSet.canonical(member.sentIdentifiers, forwarded: IdentifierSet.allKinds))
        }
        restored(slot, seen: member.seenSequence, updatedAt: member.updatedAtMilliseconds, flush: member.flush, previous: member.previous)
    }

    private mutating func restored(_ slot: Int32, seen: Int64, updatedAt: Int64, flush: Int64, previous: [HashedIdentifier]) {
        _ = table.setSeen(slot, UInt32(truncatingIfNeeded: seen))
        table.setSentAt(slot, minutes: UInt32(clamping: max(updatedAt, 0) / 60_000))
        table.setFlush(slot, UInt32(truncatingIfNeeded: flush))
        table.set(slot, flag: MemberTable.persisted, true)
        // Kept as the canonical set it is used as (what a flush may have left at the destination): a record
        // listing the same digest half a million times keeps it once.
        let previous = IdentifierSet.canonical(previous, forwarded: IdentifierSet.allKinds)
        restoredPrevious[slot] = previous.isEmpty ? nil : previous
    }

    mutating func restoreTombstone(userKey: String) {
        guard let slot = table.find(userKey) else { return }
        table.setDigests(slot, [])
        table.setFlush(slot, 0)
        table.set(slot, flag: MemberTable.persisted, false)
        restoredPrevious[slot] = nil
    }

    /// After a restore: members written by a flush the changelog does not confirm are sent again.
    mutating func resendUnconfirmed(now: Int64) -> Int {
        defer { restoredPrevious = [:] }
        let confirmed = UInt32(truncatingIfNeeded: state.confirmedFlush)
        var count = 0
        for slot in table.allSlots where table.flush(slot) > confirmed {
            unconfirmed[slot] = restoredPrevious[slot] ?? []
            pending[slot] = .hold(table.digests(slot))
            count += 1
        }
        if count > 0 { workSince = workSince ?? now }
        return count
    }

    mutating func restore(_ audience: AudienceState) {
        state = audience
    }

    /// A withdrawal from the changelog; nil (a tombstone) forgets the user's.
    mutating func restoreWithdrawal(userKey: String, _ withdrawal: WithdrawalState?) {
        withdrawals[userKey] = withdrawal.map { Withdrawal(at: $0.withdrawnAtMilliseconds, recordedAt: $0.recordedAtMilliseconds) }
    }

    // MARK: Helpers

    private mutating func desire(_ slot: Int32, _ identifiers: [HashedIdentifier], now: Int64) {
        if table.holds(slot, exactly: identifiers) && unconfirmed[slot] == nil {
            pending[slot] = nil
        } else {
            pending[slot] = .hold(identifiers)
            workSince = workSince ?? now
        }
    }

    /// Members holding something (after what is pending) and, of those, the ones not seen since `sequence`.
    private func unseen(since sequence: UInt32) -> (leavers: [Int32], members: Int) {
        var leavers: [Int32] = []
        var members = 0
        for slot in table.allSlots {
            let holds: Bool
            switch pending[slot] {
            case .hold(let identifiers)?: holds = !identifiers.isEmpty
            case .refresh?, nil: holds = table.holds(slot)
            }
            guard holds else { continue }
            members += 1
            if table.seen(slot) < sequence { leavers.append(slot) }
        }
        return (leavers, members)
    }

    private mutating func clearHold() {
        state.heldSequence = 0
        state.heldSnapshotID = ""
        state.heldRemovals = 0
    }

    private mutating func markDirty(_ slot: Int32, now: Int64) {
        if !table.set(slot, flag: MemberTable.dirty, true) { dirty.append(slot) }
        workSince = workSince ?? now
    }

    private mutating func markState(now: Int64) {
        stateDirty = true
        workSince = workSince ?? now
    }

    private func batch(_ operation: BatchOperation, scope: IdentifierType, users: [BatchUser], now: Int64, id: String) -> Batch {
        Batch(
            batchID: id, connectionID: connection.id, audienceID: sync.audienceID, audienceName: state.name.isEmpty ? sync.audienceID : state.name,
            destination: connection.destination, operation: operation, users: users, createdAtMilliseconds: now, scope: scope)
    }

    /// The changelog records of the flush: intent (dirty members, those it sends marked with the flush and
    /// what they held before) and settle (tombstones of the members it removed, then the audience's state,
    /// which confirms the flush). Clears the dirty marks.
    private mutating func changelogRecords(before: [Int32: [HashedIdentifier]]) -> (intent: [ChangelogRecord], settle: [ChangelogRecord]) {
        var intent: [ChangelogRecord] = []
        var settle: [ChangelogRecord] = []
        intent.reserveCapacity(dirty.count)
        let flush = state.confirmedFlush
        for slot in dirty {
            table.set(slot, flag: MemberTable.dirty, false)
            var key: [UInt8] = []
            let userKey = table.userKey(slot)
            BatcherState.memberKey(connectionID: connection.id, audienceID: sync.audienceID, userKey: userKey, into: &key)
            let previous = before[slot]
            if table.holds(slot) || previous?.isEmpty == false {
                table.set(slot, flag: MemberTable.persisted, true)
                let member = MemberState(
                    connectionID: connection.id, audienceID: sync.audienceID, userKey: userKey, sent: table.digests(slot),
                    updatedAtMilliseconds: Int64(table.sentAtMinutes(slot)) * 60_000, seenSequence: Int64(table.seen(slot)),
                    flush: previous == nil ? 0 : flush, previous: previous ?? [])
                intent.append(ChangelogRecord(key: key, state: .member(member)))
                if !table.holds(slot) {
                    settle.append(ChangelogRecord(key: key, state: nil))
                    table.set(slot, flag: MemberTable.persisted, false)
                }
            } else if table.set(slot, flag: MemberTable.persisted, false) {
                intent.append(ChangelogRecord(key: key, state: nil))
            }
        }
        dirty.removeAll(keepingCapacity: true)
        for userKey in dirtyWithdrawals.sorted() {
            var key: [UInt8] = []
            BatcherState.withdrawalKey(connectionID: connection.id, audienceID: sync.audienceID, userKey: userKey, into: &key)
            let withdrawal = withdrawals[userKey].map {
                WithdrawalState(
                    connectionID: connection.id, audienceID: sync.audienceID, userKey: userKey, withdrawnAtMilliseconds: $0.at, recordedAtMilliseconds: $0.recordedAt)
            }
            intent.append(ChangelogRecord(key: key, state: withdrawal.map { .withdrawal($0) }))
        }
        dirtyWithdrawals.removeAll(keepingCapacity: true)
        var key: [UInt8] = []
        BatcherState.audienceKey(connectionID: connection.id, audienceID: sync.audienceID, into: &key)
        settle.append(ChangelogRecord(key: key, state: .audience(state)))
        return (intent, settle)
    }
}
