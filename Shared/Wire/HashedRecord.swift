/// One normalized identifier, SHA-256 hashed: 32 raw bytes (hex only at a destination's edge).
public struct HashedIdentifier: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.HashedIdentifier"
    public var type = IdentifierType.unspecified
    public var sha256: [UInt8] = []

    public init(type: IdentifierType = .unspecified, sha256: [UInt8] = []) {
        self.type = type
        self.sha256 = sha256
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        let fields = try Self.fields(from: &reader)
        self.init(type: fields.type, sha256: Array(reader.buffer[fields.sha256]))
    }

    /// The fields read in place: the type, and where the digest lies in the reader's buffer. What the owned
    /// decoding and `MemberStateView` both read, so they take exactly the same bytes.
    static func fields(from reader: inout ProtoReader) throws(WireError) -> (type: IdentifierType, sha256: Range<Int>) {
        var type = IdentifierType.unspecified
        var sha256 = 0..<0
        while let field = try reader.nextField() {
            switch field.number {
            case 1: type = try reader.enumeration(field, "type")
            case 2: sha256 = try reader.bytesRange(field, "sha256")
            default: try reader.skip(field)
            }
        }
        return (type, sha256)
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.enumeration(1, type)
        writer.bytes(2, sha256)
    }
}

/// One user of one audience for one connection, after normalization: hashed identifiers only.
public struct HashedMember: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.HashedMember"
    public var connectionID = ""
    public var audienceID = ""
    public var userKey = ""
    public var action = MemberAction.unspecified
    public var snapshotID = ""
    public var identifiers: [HashedIdentifier] = []
    public var eventTimeMilliseconds: Int64 = 0

    public init(
        connectionID: String = "", audienceID: String = "", userKey: String = "", action: MemberAction = .unspecified,
        snapshotID: String = "", identifiers: [HashedIdentifier] = [], eventTimeMilliseconds: Int64 = 0
    ) {
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.userKey = userKey
        self.action = action
        self.snapshotID = snapshotID
        self.identifiers = identifiers
        self.eventTimeMilliseconds = eventTimeMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: connectionID = try reader.string(field, "connection_id")
            case 2: audienceID = try reader.string(field, "audience_id")
            case 3: userKey = try reader.string(field, "user_key")
            case 4: action = try reader.enumeration(field, "action")
            case 5: snapshotID = try reader.string(field, "snapshot_id")
            case 6: identifiers.append(try reader.message(field, "identifiers"))
            case 7: eventTimeMilliseconds = try reader.int64(field, "event_time_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, connectionID)
        writer.string(2, audienceID)
        writer.string(3, userKey)
        writer.enumeration(4, action)
        writer.string(5, snapshotID)
        writer.messages(6, identifiers)
        writer.int64(7, eventTimeMilliseconds)
    }
}

/// The value of a `cohortsync.hashed.v1` record: exactly one of its bodies.
public enum HashedRecord: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.HashedRecord"
    case member(HashedMember)
    case snapshot(SnapshotMarker)
    case lifecycle(AudienceLifecycle)
    /// An operator's decision on a held removal, for the batcher.
    case hold(HoldDecision)

    public init(from reader: inout ProtoReader) throws(WireError) {
        var body: HashedRecord?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: body = .member(try reader.message(field, "member"))
            case 2: body = .snapshot(try reader.message(field, "snapshot"))
            case 3: body = .lifecycle(try reader.message(field, "lifecycle"))
            case 4: body = .hold(try reader.message(field, "hold"))
            default: try reader.skip(field)
            }
        }
        guard let body else { throw WireError(code: .missingBody, message: "\(Self.protoName) has no member, snapshot, lifecycle or hold") }
        self = body
    }

    /// Appends a record with a `member` body given by parts to `buffer`: exactly the bytes of
    /// `HashedRecord.member(HashedMember(…))`, written in one pass into capacity sized beforehand, with no
    /// `HashedMember`, string or array per identifier. Normalize writes every hashed member this way.
    /// - Parameters:
    ///   - identifierTypes: the type of each identifier, in order.
    ///   - digests: their SHA-256 digests end to end, 32 bytes each (`identifierTypes.count` × 32 in all).
    public static func appendMember(
        connectionID: Span<UInt8>, audienceID: Span<UInt8>, userKey: Span<UInt8>, action: MemberAction, snapshotID: Span<UInt8>,
        identifierTypes: Span<IdentifierType>, digests: Span<UInt8>, eventTimeMilliseconds: Int64, to buffer: inout [UInt8]
    ) {
        precondition(digests.count == identifierTypes.count * 32, "one 32-byte digest per identifier type")
        typealias Size = ProtoSpanWriting
        var identifiersSize = 0
        for index in identifierTypes.indices {
            let length = Size.int64Size(1, Int64(identifierTypes[index].rawValue)) + Size.lengthDelimitedSize(2, count: 32)
            identifiersSize += Size.lengthDelimitedSize(6, count: length, omitEmpty: false)
        }
        let body =
            Size.lengthDelimitedSize(1, count: connectionID.count) + Size.lengthDelimitedSize(2, count: audienceID.count)
            + Size.lengthDelimitedSize(3, count: userKey.count) + Size.int64Size(4, Int64(action.rawValue))
            + Size.lengthDelimitedSize(5, count: snapshotID.count) + identifiersSize + Size.int64Size(7, eventTimeMilliseconds)
        buffer.append(addingCapacity: Size.lengthDelimitedSize(1, count: body, omitEmpty: false)) { out in
            out.protoMessageHeader(1, length: body)
            out.protoBytes(1, connectionID)
            out.protoBytes(2, audienceID)
            out.protoBytes(3, userKey)
            out.protoInt64(4, Int64(action.rawValue))
            out.protoBytes(5, snapshotID)
            for index in identifierTypes.indices {
                let type = Int64(identifierTypes[index].rawValue)
                out.protoMessageHeader(6, length: Size.int64Size(1, type) + Size.lengthDelimitedSize(2, count: 32))
                out.protoInt64(1, type)
                out.protoBytes(2, digests.extracting((index * 32)..<(index * 32 + 32)))
            }
            out.protoInt64(7, eventTimeMilliseconds)
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        switch self {
        case .member(let member): writer.message(1, member)
        case .snapshot(let marker): writer.message(2, marker)
        case .lifecycle(let lifecycle): writer.message(3, lifecycle)
        case .hold(let decision): writer.message(4, decision)
        }
    }
}
