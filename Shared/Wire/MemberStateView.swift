/// A changelog record holding a member (`BatcherState` whose body is a `MemberState`) read in place: what a
/// restore takes from each of millions of records, without a string or an array of its own per record.
///
/// It reads exactly the bytes `BatcherState(serializedBytes:)` reads, with the same checks (UTF-8 text, wire
/// types, lengths), and takes only the plain shape every batcher writes: one `member` body and nothing else.
/// Anything else (another body, a body written twice, bytes that do not decode) makes `read` return false and
/// is left to the full decoding, which decides what it is. One view is reused from record to record.
public struct MemberStateView: Sendable {
    /// One `sent` identifier: its type, and where its digest lies in `bytes`.
    public struct Identifier: Sendable, Equatable {
        public let type: IdentifierType
        public let digest: Range<Int>
    }

    /// The record's bytes; the ranges below index them.
    public private(set) var bytes: [UInt8] = []
    public private(set) var connectionID: Range<Int> = 0..<0
    public private(set) var audienceID: Range<Int> = 0..<0
    public private(set) var userKey: Range<Int> = 0..<0
    public private(set) var sent: [Identifier] = []
    public private(set) var lastSnapshotID: Range<Int> = 0..<0
    public private(set) var updatedAtMilliseconds: Int64 = 0
    public private(set) var seenSequence: Int64 = 0
    public private(set) var flush: Int64 = 0
    /// `previous` is rare (only members of a flush not yet confirmed), so it is decoded as owned values.
    public private(set) var previous: [HashedIdentifier] = []

    public init() {}

    /// Reads `value`, a whole `BatcherState` record value; false when it is not a plain member record or does
    /// not decode (the view's content is then meaningless).
    public mutating func read(_ value: [UInt8]) -> Bool {
        var reader = ProtoReader(value, context: BatcherState.protoName)
        do {
            var members = 0
            while let field = try reader.nextField() {
                switch field.number {
                case 1:
                    members += 1
                    guard members == 1 else { return false }
                    var member = try reader.nested(field, "member")
                    try readMember(&member)
                case 2, 3: return false
                default: try reader.skip(field)
                }
            }
            return members == 1
        } catch {
            return false
        }
    }

    /// Reads a `MemberState`'s fields until the reader's end, over a cleared view: `MemberState`'s own decoding
    /// reads through it too, so the owned and the in-place forms take exactly the same bytes.
    /// - Throws: `WireError` naming the field that failed.
    mutating func readMember(_ reader: inout ProtoReader) throws(WireError) {
        bytes = reader.buffer
        sent.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        (connectionID, audienceID, userKey, lastSnapshotID) = (0..<0, 0..<0, 0..<0, 0..<0)
        (updatedAtMilliseconds, seenSequence, flush) = (0, 0, 0)
        while let field = try reader.nextField() {
            switch field.number {
            case 1: connectionID = try reader.stringRange(field, "connection_id")
            case 2: audienceID = try reader.stringRange(field, "audience_id")
            case 3: userKey = try reader.stringRange(field, "user_key")
            case 4:
                var nested = try reader.nested(field, "sent")
                let identifier = try HashedIdentifier.fields(from: &nested)
                sent.append(Identifier(type: identifier.type, digest: identifier.sha256))
            case 5: lastSnapshotID = try reader.stringRange(field, "last_snapshot_id")
            case 6: updatedAtMilliseconds = try reader.int64(field, "updated_at_ms")
            case 7: seenSequence = try reader.int64(field, "seen_sequence")
            case 8: flush = try reader.int64(field, "flush")
            case 9: previous.append(try reader.message(field, "previous"))
            default: try reader.skip(field)
            }
        }
    }

    /// The text at `range` (one of the view's string ranges).
    public func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// The `sent` identifiers as owned values (what the full decoding gives).
    public var sentIdentifiers: [HashedIdentifier] {
        sent.map { HashedIdentifier(type: $0.type, sha256: Array(bytes[$0.digest])) }
    }
}
