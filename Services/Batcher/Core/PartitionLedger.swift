import Config
import Kafka
import Wire

/// The batcher's state for one input partition: a ledger per configured sync, fed in record order.
///
/// Not thread-safe: one partition's records arrive one batch at a time, and the engine keeps each
/// partition's ledger behind a lock shared with its flush timer.
public struct PartitionLedger: Sendable {
    /// What the records did, since the engine last took the counts for its metrics.
    public struct Counts: Sendable, Equatable {
        public var ignored: [String: Int] = [:]
        public var snapshots: [String: Int] = [:]
        public var decided = 0
        /// The audiences whose snapshot removal was held, with what they hold back.
        public var held: [AudienceState] = []
    }

    struct SyncKey: Hashable {
        let connectionID: String
        let audienceID: String
    }

    public let partition: Int32
    /// While restoring: the users of each sync the configuration no longer has whose latest changelog record
    /// says the destination holds them (a member state, not a tombstone).
    private var unconfiguredMembers: [SyncKey: Set<String>] = [:]
    private var ledgers: [AudienceLedger] = []
    private var bySync: [SyncKey: Int] = [:]
    /// The restore's memory from record to record: the view member records are read into, and the last sync a
    /// member key named (its key bytes and ledger), so a run of one audience's records looks nothing up.
    private var restoreView = MemberStateView()
    private var lastRestoredSync: (key: [UInt8], index: Int)?
    private var byAudience: [String: [Int]] = [:]
    private var limits: [Destination: DestinationLimits] = [:]
    private let batchPrefix: String
    private var batchSequence = 0
    private var counts = Counts()

    /// - Parameters:
    ///   - recordBytes: the largest record the stage may write (`--max-record-bytes`).
    ///   - batchPrefix: makes batch ids unique across partitions and restarts (partition and start time).
    public init(partition: Int32, config: CohortSyncConfig, recordBytes: Int, batchPrefix: String) {
        self.partition = partition
        self.batchPrefix = batchPrefix
        for sync in config.syncs {
            guard let connection = config.connection(sync.connectionID) else { continue }
            let key = SyncKey(connectionID: connection.id, audienceID: sync.audienceID)
            guard bySync[key] == nil else { continue }
            bySync[key] = ledgers.count
            byAudience[sync.audienceID, default: []].append(ledgers.count)
            ledgers.append(AudienceLedger(connection: connection, sync: sync))
            limits[connection.destination] = DestinationLimits(destination: connection.destination, recordBytes: recordBytes)
        }
    }

    // MARK: Records

    /// Why a record cannot be applied: corrupt input normalize never writes, which the stage dead-letters
    /// rather than read as "this user has no identifiers" (that would remove the user).
    public struct Refusal: Error, Equatable, Sendable {
        public let reason: String
        public let detail: String
    }

    /// The longest user key taken: ingest bounds `user.id` at 1,024 bytes and derives shorter keys.
    static let maxUserKeyBytes = 4_096
    /// Normalize sends at most one digest per identifier kind and connection.
    static let maxIdentifiers = 32

    static func refusal(_ member: HashedMember) -> Refusal? {
        // No action, or one a newer writer added: never guessed as an enter, which could put back a user an
        // exit-like action meant to remove. Dead-lettered, so an upgraded batcher can take it from the DLQ.
        guard member.action != .unspecified else {
            return Refusal(
                reason: "invalid-record",
                detail: "action is unspecified or unknown to this version; the member was not applied: upgrade the batcher, then replay it from cohortsync.dlq.v1 (cohortsync dlq replay)")
        }
        let keyBytes = member.userKey.utf8.count
        guard keyBytes > 0 && keyBytes <= maxUserKeyBytes else {
            return Refusal(reason: "invalid-user-key", detail: "user_key has \(keyBytes) bytes; 1 to \(maxUserKeyBytes) expected")
        }
        guard member.identifiers.count <= maxIdentifiers else {
            return Refusal(reason: "too-many-identifiers", detail: "\(member.identifiers.count) identifiers; at most \(maxIdentifiers) expected")
        }
        for (index, identifier) in member.identifiers.enumerated() {
            guard identifier.type != .unspecified else {
                return Refusal(reason: "invalid-identifier", detail: "identifiers[\(index)] has no known type")
            }
            guard identifier.sha256.count == MemberTable.digestLength else {
                return Refusal(
                    reason: "invalid-digest",
                    detail: "identifiers[\(index)] (\(identifier.type.name)) has a \(identifier.sha256.count)-byte sha256; \(MemberTable.digestLength) expected")
            }
        }
        return nil
    }

    /// Why a control record is refused: text over the bounds ingest applies (a snapshot id or an audience name
    /// the batcher would keep in its state record and write into every batch), or a hold decision that says
    /// neither confirm nor discard (never guessed: the hold stays until an operator decides again).
    static func refusal(_ record: HashedRecord) -> Refusal? {
        switch record {
        case .member(let member): return refusal(member)
        case .snapshot(let marker):
            let bytes = marker.snapshotID.utf8.count
            guard bytes <= TextBounds.snapshotID else {
                return Refusal(reason: "invalid-record", detail: "snapshot_id has \(bytes) bytes; at most \(TextBounds.snapshotID)")
            }
        case .lifecycle(let event):
            let bytes = event.name.utf8.count
            guard bytes <= TextBounds.audienceName else {
                return Refusal(reason: "invalid-record", detail: "name has \(bytes) bytes; at most \(TextBounds.audienceName)")
            }
        case .hold(let decision):
            guard decision.action != .unspecified else {
                return Refusal(
                    reason: "invalid-record",
                    detail: "action is unspecified or unknown to this version; the hold stays: decide again with cohortsync holds confirm or discard")
            }
        }
        return nil
    }

    /// Applies one record of this partition; the ledgers it changes register `completion`, which is then
    /// finished by their flushes. Returns why a member record was refused (nothing applied), or nil.
    @discardableResult
    public mutating func apply(_ record: HashedRecord, trace: SourcePosition, completion: BatchCompletion?, now: Int64) -> Refusal? {
        switch record {
        case .member(let member):
            guard let index = bySync[SyncKey(connectionID: member.connectionID, audienceID: member.audienceID)] else {
                ignore("no-sync")
                return nil
            }
            if let refusal = Self.refusal(record) { return refusal }
            let applied = ledgers[index].apply(member, now: now)
            if let ignored = applied.ignored {
                ignore(ignored.rawValue)
                // Ignored for the membership, yet what it changed waits for a flush: so does its offset.
                guard applied.changedState else { return nil }
            }
            ledgers[index].cover(completion, trace: trace, now: now)
        case .snapshot(let marker):
            let indices = byAudience[marker.audienceID] ?? []
            if !indices.isEmpty, let refusal = Self.refusal(record) { return refusal }
            for index in indices {
                switch marker.phase {
                case .begin:
                    if let ignored = ledgers[index].beginSnapshot(marker, now: now) {
                        ignore(ignored.rawValue)
                        continue
                    }
                    counts.snapshots["begun", default: 0] += 1
                case .end:
                    switch ledgers[index].endSnapshot(marker, now: now) {
                    case .applied: counts.snapshots["applied", default: 0] += 1
                    case .incomplete: counts.snapshots["incomplete", default: 0] += 1
                    case .held:
                        counts.snapshots["held", default: 0] += 1
                        counts.held.append(ledgers[index].state)
                    case .ignored(let reason):
                        ignore(reason.rawValue)
                        continue
                    }
                case .unspecified:
                    ignore("unknown-snapshot-phase")
                    continue
                }
                ledgers[index].cover(completion, trace: trace, now: now)
            }
        case .lifecycle(let event):
            let indices = byAudience[event.audienceID] ?? []
            if !indices.isEmpty, let refusal = Self.refusal(record) { return refusal }
            for index in indices {
                ledgers[index].lifecycle(event, now: now)
                ledgers[index].cover(completion, trace: trace, now: now)
            }
        case .hold(let decision):
            guard let index = bySync[SyncKey(connectionID: decision.connectionID, audienceID: decision.audienceID)] else {
                ignore("no-sync")
                return nil
            }
            if let refusal = Self.refusal(record) { return refusal }
            if let ignored = ledgers[index].decide(decision, now: now).ignored {
                ignore(ignored.rawValue)
                return nil
            }
            counts.decided += 1
            ledgers[index].cover(completion, trace: trace, now: now)
        }
        return nil
    }

    private mutating func ignore(_ reason: String) {
        counts.ignored[reason, default: 0] += 1
    }

    /// The counts since the last call.
    public mutating func takeCounts() -> Counts {
        defer { counts = Counts() }
        return counts
    }

    // MARK: Restore

    /// Applies one changelog record read back on assignment, in changelog order. Returns false for a record
    /// that cannot be read (counted `unreadable-state` and skipped: one damaged record must not keep every
    /// replica from starting; a member's is sent again at its next change, a withdrawal's no longer refuses
    /// older memberships).
    @discardableResult
    public mutating func restore(_ entry: PartitionEntry) -> Bool {
        if restoreMemberInPlace(entry) { return true }
        guard let keyBytes = entry.key, let key = BatcherState.parseKey(keyBytes) else {
            ignore("unreadable-state")
            return false
        }
        let sync: SyncKey = switch key {
        case .member(let connectionID, let audienceID, _), .audience(let connectionID, let audienceID), .withdrawal(let connectionID, let audienceID, _):
            SyncKey(connectionID: connectionID, audienceID: audienceID)
        }
        guard let index = bySync[sync] else {
            ignore("state-of-no-sync")
            if case .member(_, _, let userKey) = key {
                if entry.value == nil {
                    unconfiguredMembers[sync]?.remove(userKey)
                } else {
                    unconfiguredMembers[sync, default: []].insert(userKey)
                }
            }
            return true
        }
        var state: BatcherState?
        if let value = entry.value {
            guard let decoded = try? BatcherState(serializedBytes: value) else {
                ignore("unreadable-state")
                return false
            }
            state = decoded
        }
        // A null value (a tombstone) forgets what the key held; a value must be of its key's kind and user.
        switch (key, state) {
        case (.member(_, _, let userKey), nil): ledgers[index].restoreTombstone(userKey: userKey)
        case (.member(_, _, let userKey), .member(let member)?) where member.userKey == userKey: ledgers[index].restore(member)
        case (.audience, nil): break
        case (.audience(let connectionID, let audienceID), .audience(let audience)?)
        where audience.connectionID == connectionID && audience.audienceID == audienceID && Self.isSane(audience):
            ledgers[index].restore(audience)
        case (.withdrawal(_, _, let userKey), nil): ledgers[index].restoreWithdrawal(userKey: userKey, nil)
        case (.withdrawal(_, _, let userKey), .withdrawal(let withdrawal)?) where withdrawal.userKey == userKey:
            ledgers[index].restoreWithdrawal(userKey: userKey, withdrawal)
        default:
            ignore("unreadable-state")
            return false
        }
        return true
    }

    /// `restore` of the record almost every changelog record is, read in place: a member of a configured sync
    /// under an ASCII key, whose value names the same user. False for anything else, which is then restored
    /// the general way (nothing was changed).
    private mutating func restoreMemberInPlace(_ entry: PartitionEntry) -> Bool {
        guard let key = entry.key, let value = entry.value, let parts = BatcherState.memberKeyRanges(key) else { return false }
        let index: Int
        if let last = lastRestoredSync, last.key.span.elementsEqual(key.span.extracting(parts.sync)) {
            index = last.index
        } else {
            guard case .member(let connectionID, let audienceID, _)? = BatcherState.parseKey(key),
                let found = bySync[SyncKey(connectionID: connectionID, audienceID: audienceID)]
            else { return false }
            index = found
            lastRestoredSync = (Array(key[parts.sync]), found)
        }
        guard restoreView.read(value), restoreView.bytes.span.extracting(restoreView.userKey).elementsEqual(key.span.extracting(parts.userKey))
        else { return false }
        let member = restoreView
        ledgers[index].restore(member, userKey: key.span.extracting(parts.userKey))
        return true
    }

    /// After a restore: `connection/audience` of each sync the configuration no longer has and the count of its
    /// members the destination still holds, by the changelog (their audience keeps them, and no consent
    /// withdrawal reaches it any more); forgets them.
    public mutating func takeUnconfiguredSyncs() -> [String: Int] {
        defer { unconfiguredMembers = [:] }
        return Dictionary(uniqueKeysWithValues: unconfiguredMembers.compactMap { sync, users in
            users.isEmpty ? nil : ("\(sync.connectionID)/\(sync.audienceID)", users.count)
        })
    }

    /// The most a counter of an audience's state reaches in any real run (one flush or snapshot a millisecond
    /// for 285,000 years): a restored value above it, or below zero, is damage, and counting on from it
    /// would overflow.
    static let maxCounter: Int64 = 1 << 53

    /// Whether an audience state read back can be counted on from: its counters in 0...`maxCounter`, and its
    /// texts within the bounds the batcher applies to the records they come from.
    static func isSane(_ audience: AudienceState) -> Bool {
        let counters = [audience.snapshotSequence, audience.confirmedFlush, audience.heldSequence, audience.heldRemovals]
        return counters.allSatisfy { (0...maxCounter).contains($0) } && audience.openSnapshotBeganAtMilliseconds >= 0
            && audience.name.utf8.count <= TextBounds.audienceName
            && audience.openSnapshotID.utf8.count <= TextBounds.snapshotID
            && audience.heldSnapshotID.utf8.count <= TextBounds.snapshotID
    }

    /// After a restore: queues members of unconfirmed flushes to be sent again (a removal of what the
    /// destination may hold, then an add of what it should), and the removal of digests of kinds a
    /// connection no longer forwards. Returns the members of each kind.
    public mutating func reconcileAfterRestore(now: Int64) -> (unconfirmed: Int, unforwarded: Int) {
        // The restore is over: its reading memory (the last record's bytes among it) goes.
        restoreView = MemberStateView()
        lastRestoredSync = nil
        var counts = (unconfirmed: 0, unforwarded: 0)
        for index in ledgers.indices {
            counts.unconfirmed += ledgers[index].resendUnconfirmed(now: now)
            counts.unforwarded += ledgers[index].dropUnforwarded(now: now)
        }
        return counts
    }

    /// Forgets consent withdrawals past their retention, in every audience.
    public mutating func pruneWithdrawals(now: Int64) {
        for index in ledgers.indices { ledgers[index].pruneWithdrawals(now: now) }
    }

    /// Queues a re-add of X memberships sent before `cutoff`, ahead of X's 13-month default expiry.
    /// Returns the members queued.
    public mutating func refreshX(sentBefore cutoff: Int64, now: Int64) -> Int {
        ledgers.indices.reduce(0) { total, index in
            ledgers[index].connection.destination == .x ? total + ledgers[index].refresh(sentBefore: cutoff, now: now) : total
        }
    }

    // MARK: Flushing

    /// Flushes the ledgers whose work is due.
    public mutating func dueFlushes(now: Int64) -> [FlushPlan] {
        flush(now: now) { ledger, limits in ledger.isDue(now: now, limits: limits) }
    }

    /// Flushes everything (the partition is about to go, or the stage stops).
    public mutating func flushAll(now: Int64) -> [FlushPlan] {
        flush(now: now) { ledger, _ in ledger.hasWork }
    }

    private mutating func flush(now: Int64, when: (AudienceLedger, DestinationLimits) -> Bool) -> [FlushPlan] {
        var plans: [FlushPlan] = []
        for index in ledgers.indices {
            let limit = limits[ledgers[index].connection.destination]!
            guard when(ledgers[index], limit) else { continue }
            var sequence = batchSequence
            plans.append(ledgers[index].flush(now: now, limits: limit) { [batchPrefix] in
                sequence += 1
                return "\(batchPrefix)-\(sequence)"
            })
            batchSequence = sequence
        }
        return plans
    }

    // MARK: Inspection

    /// Members holding something at the destination, per (connection, audience).
    public var members: [(connectionID: String, audienceID: String, count: Int)] {
        ledgers.map { ($0.connection.id, $0.sync.audienceID, $0.memberCount) }
    }

    /// Member changes waiting for a flush.
    public var pendingCount: Int { ledgers.reduce(0) { $0 + $1.pendingCount } }

    /// Consent withdrawals kept, per (user, audience).
    public var withdrawalCount: Int { ledgers.reduce(0) { $0 + $1.withdrawals.count } }

    /// Syncs whose snapshot removal waits for an operator, with the held snapshot and removal count.
    public var holds: [AudienceState] { ledgers.filter(\.isHolding).map(\.state) }
}
