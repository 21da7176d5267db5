import Wire

/// The members of one audience of one connection in one partition, in flat storage: what the destination
/// holds for each (the digests last sent), when they were last sent and last seen by a snapshot.
///
/// No object per member: a 24-byte slot, the user key's bytes in one arena, the digests in another and an
/// open-addressing index of slot numbers, so millions of members cost tens of bytes each beyond their
/// digests. A member that leaves keeps its slot (and key) until `compact()`, so it is found again by key;
/// compaction renumbers slots and therefore runs only when no slot number is held elsewhere.
struct MemberTable {
    struct Slot {
        var keyStart: UInt32
        var digestStart: UInt32
        /// The audience's snapshot sequence when the member was last seen.
        var seen: UInt32
        /// Minutes since the epoch when the digests were last added at the destination.
        var sentAtMinutes: UInt32
        /// The audience's flush that last changed the digests, as restored (see `FlushPlan`).
        var flush: UInt32
        var keyLength: UInt16
        var digestCount: UInt8
        var flags: UInt8
    }

    /// The member's state differs from its last changelog record.
    static let dirty: UInt8 = 1
    /// A changelog record exists for the member: leaving needs a tombstone.
    static let persisted: UInt8 = 2

    private(set) var slots: [Slot] = []
    private var keyBytes: [UInt8] = []
    private var digestBytes: [UInt8] = []
    private var digestTypes: [UInt8] = []
    /// Slot numbers by key hash; -1 is empty. Always a power of two, at most half full.
    private var index = [Int32](repeating: -1, count: 16)
    /// Members holding at least one digest at the destination.
    private(set) var liveCount = 0
    private var garbageDigests = 0

    static let digestLength = 32
    /// User keys longer than this are refused by `insert` (ingest bounds them far below).
    static let maximumKeyLength = Int(UInt16.max)

    // MARK: Lookup

    func find(_ key: String) -> Int32? {
        find(key.utf8.span)
    }

    /// The slot of the member whose user key is these UTF-8 bytes (at most `maximumKeyLength` of them count).
    func find(_ key: Span<UInt8>) -> Int32? {
        let bytes = key.extracting(0..<min(key.count, Self.maximumKeyLength))
        let mask = index.count - 1
        var bucket = Int(Self.hash(bytes) & UInt64(mask))
        let stored = keyBytes.span
        while true {
            let slot = index[bucket]
            if slot < 0 { return nil }
            let entry = slots[Int(slot)]
            // The length first: most slots probed past hold another key, and their bytes need not be read.
            if Int(entry.keyLength) == bytes.count,
                stored.extracting(Int(entry.keyStart)..<Int(entry.keyStart) + bytes.count).elementsEqual(bytes)
            {
                return slot
            }
            bucket = (bucket + 1) & mask
        }
    }

    /// The member's slot, created empty (holding nothing, never seen) when the key is new.
    mutating func findOrInsert(_ key: String) -> Int32 {
        findOrInsert(key.utf8.span)
    }

    /// `findOrInsert` by the user key's UTF-8 bytes.
    mutating func findOrInsert(_ key: Span<UInt8>) -> Int32 {
        if let slot = find(key) { return slot }
        if (slots.count + 1) * 2 > index.count { rebuildIndex(capacity: index.count * 2) }
        let number = Int32(slots.count)
        let bytes = key.extracting(0..<min(key.count, Self.maximumKeyLength))
        slots.append(
            Slot(
                keyStart: UInt32(keyBytes.count), digestStart: 0, seen: 0, sentAtMinutes: 0, flush: 0,
                keyLength: UInt16(bytes.count), digestCount: 0, flags: 0))
        keyBytes.append(span: bytes)
        place(number, hash: Self.hash(bytes))
        return number
    }

    func userKey(_ slot: Int32) -> String {
        let entry = slots[Int(slot)]
        let start = Int(entry.keyStart)
        return String(decoding: keyBytes[start..<start + Int(entry.keyLength)], as: UTF8.self)
    }

    // MARK: Per-member state

    /// The digests the destination holds for the member, in canonical order.
    func digests(_ slot: Int32) -> [HashedIdentifier] {
        let entry = slots[Int(slot)]
        let start = Int(entry.digestStart)
        return (start..<start + Int(entry.digestCount)).map { position in
            let bytes = position * Self.digestLength
            return HashedIdentifier(
                type: IdentifierType(rawValue: Int32(digestTypes[position])) ?? .unspecified,
                sha256: Array(digestBytes[bytes..<bytes + Self.digestLength]))
        }
    }

    func holds(_ slot: Int32) -> Bool { slots[Int(slot)].digestCount > 0 }

    /// Whether the member holds exactly `identifiers` (canonical order) at the destination.
    func holds(_ slot: Int32, exactly identifiers: [HashedIdentifier]) -> Bool {
        let entry = slots[Int(slot)]
        guard Int(entry.digestCount) == identifiers.count else { return false }
        let start = Int(entry.digestStart)
        for (offset, identifier) in identifiers.enumerated() {
            let position = start + offset
            guard digestTypes[position] == UInt8(identifier.type.rawValue) else { return false }
            let bytes = position * Self.digestLength
            guard digestBytes[bytes..<bytes + Self.digestLength].elementsEqual(identifier.sha256) else { return false }
        }
        return true
    }

    /// Records what the destination holds for the member now (canonical order, 32-byte digests).
    mutating func setDigests(_ slot: Int32, _ identifiers: [HashedIdentifier]) {
        placeDigests(slot, count: identifiers.count)
        for identifier in identifiers {
            digestTypes.append(UInt8(identifier.type.rawValue))
            digestBytes.append(contentsOf: identifier.sha256)
        }
    }

    /// `setDigests` from identifiers read in place: `identifiers`' digests lie in `bytes` (canonical order,
    /// 32 bytes each, as `IdentifierSet.isCanonical` checks).
    mutating func setDigests(_ slot: Int32, _ identifiers: [MemberStateView.Identifier], in bytes: [UInt8]) {
        precondition(identifiers.count <= Int(UInt8.max) && identifiers.allSatisfy { $0.digest.count == Self.digestLength }, "canonical identifiers only")
        placeDigests(slot, count: identifiers.count)
        for identifier in identifiers {
            digestTypes.append(UInt8(identifier.type.rawValue))
            digestBytes.append(span: bytes.span.extracting(identifier.digest))
        }
    }

    /// Points the member's slot at the `count` digests its caller appends next; the ones it held become garbage.
    private mutating func placeDigests(_ slot: Int32, count: Int) {
        let number = Int(slot)
        let wasLive = slots[number].digestCount > 0
        garbageDigests += Int(slots[number].digestCount)
        slots[number].digestStart = UInt32(digestTypes.count)
        slots[number].digestCount = UInt8(count)
        liveCount += (count == 0 ? 0 : 1) - (wasLive ? 1 : 0)
    }

    func seen(_ slot: Int32) -> UInt32 { slots[Int(slot)].seen }

    /// Sets when the member was last seen; returns whether that changed.
    mutating func setSeen(_ slot: Int32, _ sequence: UInt32) -> Bool {
        guard slots[Int(slot)].seen != sequence else { return false }
        slots[Int(slot)].seen = sequence
        return true
    }

    func sentAtMinutes(_ slot: Int32) -> UInt32 { slots[Int(slot)].sentAtMinutes }

    func flush(_ slot: Int32) -> UInt32 { slots[Int(slot)].flush }

    mutating func setFlush(_ slot: Int32, _ flush: UInt32) { slots[Int(slot)].flush = flush }

    mutating func setSentAt(_ slot: Int32, minutes: UInt32) { slots[Int(slot)].sentAtMinutes = minutes }

    func has(_ slot: Int32, flag: UInt8) -> Bool { slots[Int(slot)].flags & flag != 0 }

    /// Sets or clears `flag`; returns whether it was set before.
    @discardableResult
    mutating func set(_ slot: Int32, flag: UInt8, _ on: Bool) -> Bool {
        let before = slots[Int(slot)].flags & flag != 0
        if on { slots[Int(slot)].flags |= flag } else { slots[Int(slot)].flags &= ~flag }
        return before
    }

    // MARK: Storage

    /// Whether leavers and replaced digests take enough room that `compact()` is worth its copy.
    var wantsCompaction: Bool {
        let dead = slots.count - liveCount
        return (dead > 1_024 && dead > liveCount) || (garbageDigests > 4_096 && garbageDigests > digestTypes.count / 2)
    }

    /// Drops leavers that have no changelog record and rewrites the arenas without garbage. Renumbers slots:
    /// call it only when no slot number is held elsewhere (no pending change, nothing dirty).
    mutating func compact() {
        var kept = MemberTable()
        kept.slots.reserveCapacity(liveCount)
        for number in slots.indices where slots[number].digestCount > 0 || slots[number].flags & Self.persisted != 0 {
            let slot = Int32(number)
            let copy = kept.findOrInsert(userKey(slot))
            kept.setDigests(copy, digests(slot))
            kept.slots[Int(copy)].seen = slots[number].seen
            kept.slots[Int(copy)].sentAtMinutes = slots[number].sentAtMinutes
            kept.slots[Int(copy)].flush = slots[number].flush
            kept.slots[Int(copy)].flags = slots[number].flags
        }
        self = kept
    }

    /// Buckets in the key index (a power of two, at least twice the members).
    var bucketCount: Int { index.count }

    /// Every slot number, for sweeps over the members.
    var allSlots: Range<Int32> { 0..<Int32(slots.count) }

    // MARK: Index

    private mutating func place(_ slot: Int32, hash: UInt64) {
        let mask = index.count - 1
        var bucket = Int(hash & UInt64(mask))
        while index[bucket] >= 0 { bucket = (bucket + 1) & mask }
        index[bucket] = slot
    }

    private mutating func rebuildIndex(capacity: Int) {
        index = [Int32](repeating: -1, count: capacity)
        for number in slots.indices {
            let entry = slots[number]
            let start = Int(entry.keyStart)
            place(Int32(number), hash: Self.hash(keyBytes.span.extracting(start..<start + Int(entry.keyLength))))
        }
    }

    /// FNV-1a over a key's UTF-8 bytes (callers pass at most `maximumKeyLength` of them): stable within the
    /// process, no allocation.
    static func hash(_ bytes: Span<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for index in bytes.indices {
            hash ^= UInt64(bytes[index])
            hash &*= 0x0000_0100_0000_01b3
        }
        // FNV's low bits mix poorly for short keys; fold the high half in before masking.
        return hash ^ (hash >> 29)
    }
}
