/// The batcher's bookkeeping for one audience of one connection in one partition.
public struct AudienceState: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.AudienceState"
    public var connectionID = ""
    public var audienceID = ""
    /// The display name destination audiences are created with.
    public var name = ""
    /// Snapshots begun so far; members remember the value when they were last seen.
    public var snapshotSequence: Int64 = 0
    /// The snapshot begun and not yet ended; empty when none is open.
    public var openSnapshotID = ""
    /// Deleted upstream: nothing is emitted for the audience until it is created again.
    public var deleted = false
    /// A `once` sync applied its snapshot: later records are ignored.
    public var onceApplied = false
    /// A held removal: the members not seen since this snapshot sequence began; 0 when nothing is held.
    public var heldSequence: Int64 = 0
    public var heldSnapshotID = ""
    public var heldRemovals: Int64 = 0
    /// The last flush whose batches the broker acknowledged: members written by a later flush may not have
    /// reached the destination.
    public var confirmedFlush: Int64 = 0
    /// When the open snapshot began (its marker's time; 0 unknown): its members are ordered against consent
    /// withdrawals by it.
    public var openSnapshotBeganAtMilliseconds: Int64 = 0

    public init(
        connectionID: String = "", audienceID: String = "", name: String = "", snapshotSequence: Int64 = 0, openSnapshotID: String = "",
        deleted: Bool = false, onceApplied: Bool = false, heldSequence: Int64 = 0, heldSnapshotID: String = "", heldRemovals: Int64 = 0,
        confirmedFlush: Int64 = 0, openSnapshotBeganAtMilliseconds: Int64 = 0
    ) {
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.name = name
        self.snapshotSequence = snapshotSequence
        self.openSnapshotID = openSnapshotID
        self.deleted = deleted
        self.onceApplied = onceApplied
        self.heldSequence = heldSequence
        self.heldSnapshotID = heldSnapshotID
        self.heldRemovals = heldRemovals
        self.confirmedFlush = confirmedFlush
        self.openSnapshotBeganAtMilliseconds = openSnapshotBeganAtMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: connectionID = try reader.string(field, "connection_id")
            case 2: audienceID = try reader.string(field, "audience_id")
            case 3: name = try reader.string(field, "name")
            case 4: snapshotSequence = try reader.int64(field, "snapshot_sequence")
            case 5: openSnapshotID = try reader.string(field, "open_snapshot_id")
            case 6: deleted = try reader.bool(field, "deleted")
            case 7: onceApplied = try reader.bool(field, "once_applied")
            case 8: heldSequence = try reader.int64(field, "held_sequence")
            case 9: heldSnapshotID = try reader.string(field, "held_snapshot_id")
            case 10: heldRemovals = try reader.int64(field, "held_removals")
            case 11: confirmedFlush = try reader.int64(field, "confirmed_flush")
            case 12: openSnapshotBeganAtMilliseconds = try reader.int64(field, "open_snapshot_began_at_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, connectionID)
        writer.string(2, audienceID)
        writer.string(3, name)
        writer.int64(4, snapshotSequence)
        writer.string(5, openSnapshotID)
        writer.bool(6, deleted)
        writer.bool(7, onceApplied)
        writer.int64(8, heldSequence)
        writer.string(9, heldSnapshotID)
        writer.int64(10, heldRemovals)
        writer.int64(11, confirmedFlush)
        writer.int64(12, openSnapshotBeganAtMilliseconds)
    }
}

/// The value of a `cohortsync.batcher-state.v1` record: a member's or an audience's state, or a user's last
/// consent withdrawal. A tombstone (null value) deletes the key.
public enum BatcherState: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.BatcherState"
    case member(MemberState)
    case audience(AudienceState)
    case withdrawal(WithdrawalState)

    public init(from reader: inout ProtoReader) throws(WireError) {
        var body: BatcherState?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: body = .member(try reader.message(field, "member"))
            case 2: body = .audience(try reader.message(field, "audience"))
            case 3: body = .withdrawal(try reader.message(field, "withdrawal"))
            default: try reader.skip(field)
            }
        }
        guard let body else { throw WireError(code: .missingBody, message: "\(Self.protoName) has no member, audience or withdrawal") }
        self = body
    }

    public func encode(to writer: inout ProtoWriter) {
        switch self {
        case .member(let member): writer.message(1, member)
        case .audience(let audience): writer.message(2, audience)
        case .withdrawal(let withdrawal): writer.message(3, withdrawal)
        }
    }

    /// The changelog key of a member: `m`, then connection, audience and user key, each length-prefixed so
    /// no id can be confused with another whatever characters it holds.
    public static func memberKey(connectionID: String, audienceID: String, userKey: String, into key: inout [UInt8]) {
        key.append(UInt8(ascii: "m"))
        appendPart(connectionID, to: &key)
        appendPart(audienceID, to: &key)
        appendPart(userKey, to: &key)
    }

    /// The changelog key of an audience's bookkeeping: `a`, then connection and audience, length-prefixed.
    public static func audienceKey(connectionID: String, audienceID: String, into key: inout [UInt8]) {
        key.append(UInt8(ascii: "a"))
        appendPart(connectionID, to: &key)
        appendPart(audienceID, to: &key)
    }

    /// The changelog key of a user's last consent withdrawal in an audience: `w`, then connection, audience
    /// and user key, length-prefixed.
    public static func withdrawalKey(connectionID: String, audienceID: String, userKey: String, into key: inout [UInt8]) {
        key.append(UInt8(ascii: "w"))
        appendPart(connectionID, to: &key)
        appendPart(audienceID, to: &key)
        appendPart(userKey, to: &key)
    }

    /// What a changelog key names.
    public enum Key: Hashable, Sendable {
        case member(connectionID: String, audienceID: String, userKey: String)
        case audience(connectionID: String, audienceID: String)
        case withdrawal(connectionID: String, audienceID: String, userKey: String)
    }

    /// The parts of a key written by `memberKey`, `audienceKey` or `withdrawalKey`; nil for anything else.
    public static func parseKey(_ key: [UInt8]) -> Key? {
        guard let kind = key.first else { return nil }
        var position = 1
        var parts: [String] = []
        while position < key.count {
            var length = 0
            var shift = 0
            while true {
                guard position < key.count, shift < 35 else { return nil }
                let byte = key[position]
                position += 1
                length |= Int(byte & 0x7f) << shift
                shift += 7
                if byte < 0x80 { break }
            }
            guard length <= key.count - position else { return nil }
            parts.append(String(decoding: key[position..<position + length], as: UTF8.self))
            position += length
        }
        switch (kind, parts.count) {
        case (UInt8(ascii: "m"), 3): return .member(connectionID: parts[0], audienceID: parts[1], userKey: parts[2])
        case (UInt8(ascii: "a"), 2): return .audience(connectionID: parts[0], audienceID: parts[1])
        case (UInt8(ascii: "w"), 3): return .withdrawal(connectionID: parts[0], audienceID: parts[1], userKey: parts[2])
        default: return nil
        }
    }

    /// Where the parts of a member key (`memberKey`) lie: the sync (its connection and audience parts, length
    /// prefixes included) and the user key. Nil for any other key and for one with a byte outside ASCII, which
    /// `parseKey` reads (it repairs what is not UTF-8 as it makes the text): what a restore reads in place.
    public static func memberKeyRanges(_ key: [UInt8]) -> (sync: Range<Int>, userKey: Range<Int>)? {
        guard key.first == UInt8(ascii: "m") else { return nil }
        var highBits: UInt8 = 0
        for byte in key { highBits |= byte }
        guard highBits < 0x80 else { return nil }
        // All ASCII: every length prefix is one byte. Three parts, the last ending the key.
        var position = 1
        var audienceEnd = 0
        for part in 0..<3 {
            guard position < key.count else { return nil }
            let length = Int(key[position])
            guard length <= key.count - position - 1 else { return nil }
            position += 1 + length
            if part == 1 { audienceEnd = position }
        }
        guard position == key.count else { return nil }
        return (1..<audienceEnd, audienceEnd + 1..<position)
    }

    /// The part's UTF-8 length as a varint, then its bytes.
    private static func appendPart(_ part: String, to key: inout [UInt8]) {
        var writer = ProtoWriter(taking: &key)
        writer.varint(UInt64(part.utf8.count))
        writer.give(to: &key)
        key.append(contentsOf: part.utf8)
    }
}
