/// One user in a batch: its key and the hashed identifiers to add or remove.
public struct BatchUser: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.BatchUser"
    public var userKey = ""
    public var identifiers: [HashedIdentifier] = []

    public init(userKey: String = "", identifiers: [HashedIdentifier] = []) {
        self.userKey = userKey
        self.identifiers = identifiers
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: userKey = try reader.string(field, "user_key")
            case 2: identifiers.append(try reader.message(field, "identifiers"))
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, userKey)
        writer.messages(2, identifiers)
    }
}

/// One API-sized operation on one destination audience, on `cohortsync.batches.<destination>.v1`.
public struct Batch: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.Batch"
    public var batchID = ""
    public var connectionID = ""
    public var audienceID = ""
    public var audienceName = ""
    public var destination = Destination.unspecified
    public var operation = BatchOperation.unspecified
    public var users: [BatchUser] = []
    public var createdAtMilliseconds: Int64 = 0
    /// The identifier type of the destination audience when the connection names one audience per type;
    /// `unspecified` for one audience.
    public var scope = IdentifierType.unspecified
    /// Enum fields written with a number this version does not know. Kept as read, so the batch says the same
    /// when written again (as protobuf keeps them), and refused by the uploader: read as unspecified, such a
    /// value would send the batch to the wrong audience.
    public var unknownEnums: [UnknownEnum] = []

    /// An enum field's number this version does not know.
    public struct UnknownEnum: Hashable, Sendable, CustomStringConvertible {
        public let field: Int
        public let name: String
        public let number: Int32

        /// `scope 99`.
        public var description: String { "\(name) \(number)" }
    }

    public init(
        batchID: String = "", connectionID: String = "", audienceID: String = "", audienceName: String = "",
        destination: Destination = .unspecified, operation: BatchOperation = .unspecified, users: [BatchUser] = [],
        createdAtMilliseconds: Int64 = 0, scope: IdentifierType = .unspecified
    ) {
        self.batchID = batchID
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.audienceName = audienceName
        self.destination = destination
        self.operation = operation
        self.users = users
        self.createdAtMilliseconds = createdAtMilliseconds
        self.scope = scope
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: batchID = try reader.string(field, "batch_id")
            case 2: connectionID = try reader.string(field, "connection_id")
            case 3: audienceID = try reader.string(field, "audience_id")
            case 4: audienceName = try reader.string(field, "audience_name")
            case 5: destination = try known(field, "destination", &reader)
            case 6: operation = try known(field, "operation", &reader)
            case 7: users.append(try reader.message(field, "users"))
            case 8: createdAtMilliseconds = try reader.int64(field, "created_at_ms")
            case 9: scope = try known(field, "scope", &reader)
            default: try reader.skip(field)
            }
        }
    }

    /// An enum field's value; a number this version does not know is kept in `unknownEnums` and read as
    /// unspecified. The last value of a field written twice wins, as protobuf has it.
    private mutating func known<E: ProtoEnum>(_ field: ProtoReader.Field, _ name: StaticString, _ reader: inout ProtoReader) throws(WireError) -> E {
        let (value, unknown): (E, Int32?) = try reader.knownEnumeration(field, name)
        unknownEnums.removeAll { $0.field == field.number }
        if let unknown { unknownEnums.append(UnknownEnum(field: field.number, name: "\(name)", number: unknown)) }
        return value
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, batchID)
        writer.string(2, connectionID)
        writer.string(3, audienceID)
        writer.string(4, audienceName)
        writer.enumeration(5, destination)
        writer.enumeration(6, operation)
        writer.messages(7, users)
        writer.int64(8, createdAtMilliseconds)
        writer.enumeration(9, scope)
        for unknown in unknownEnums { writer.int32(unknown.field, unknown.number) }
    }
}
