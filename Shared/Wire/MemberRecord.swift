/// Identifiers as the CDP sent them. They exist only on `cohortsync.members.v1`; normalize hashes them.
public struct RawIdentifiers: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.RawIdentifiers"
    public var email = ""
    public var phone = ""
    public var idfa = ""
    public var gaid = ""
    public var androidID = ""
    public var xHandle = ""
    public var xID = ""

    /// The value of `kind` (empty when the user has none; always empty for `unspecified`, which holds none).
    public subscript(kind: IdentifierType) -> String {
        get {
            switch kind {
            case .unspecified: ""
            case .email: email
            case .phone: phone
            case .idfa: idfa
            case .gaid: gaid
            case .androidID: androidID
            case .xHandle: xHandle
            case .xID: xID
            }
        }
        set {
            switch kind {
            case .unspecified: break
            case .email: email = newValue
            case .phone: phone = newValue
            case .idfa: idfa = newValue
            case .gaid: gaid = newValue
            case .androidID: androidID = newValue
            case .xHandle: xHandle = newValue
            case .xID: xID = newValue
            }
        }
    }

    public init(email: String = "", phone: String = "", idfa: String = "", gaid: String = "", androidID: String = "", xHandle: String = "", xID: String = "") {
        self.email = email
        self.phone = phone
        self.idfa = idfa
        self.gaid = gaid
        self.androidID = androidID
        self.xHandle = xHandle
        self.xID = xID
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init(try RawIdentifierRanges(from: &reader), in: reader.buffer)
    }

    /// The identifiers at `ranges` of `bytes`.
    init(_ ranges: RawIdentifierRanges, in bytes: [UInt8]) {
        self.init()
        for kind in IdentifierType.kinds { self[kind] = String(decoding: bytes[ranges[kind]], as: UTF8.self) }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, email)
        writer.string(2, phone)
        writer.string(3, idfa)
        writer.string(4, gaid)
        writer.string(5, androidID)
        writer.string(6, xHandle)
        writer.string(7, xID)
    }
}

/// A user entering, leaving or present in a snapshot of an audience, before normalization.
public struct MemberChange: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.MemberChange"
    public var audienceID = ""
    public var userKey = ""
    public var action = MemberAction.unspecified
    public var snapshotID = ""
    public var identifiers = RawIdentifiers()
    public var consent = Consent.unspecified
    public var eventTimeMilliseconds: Int64 = 0

    public init(
        audienceID: String = "", userKey: String = "", action: MemberAction = .unspecified, snapshotID: String = "",
        identifiers: RawIdentifiers = RawIdentifiers(), consent: Consent = .unspecified, eventTimeMilliseconds: Int64 = 0
    ) {
        self.audienceID = audienceID
        self.userKey = userKey
        self.action = action
        self.snapshotID = snapshotID
        self.identifiers = identifiers
        self.consent = consent
        self.eventTimeMilliseconds = eventTimeMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init(try MemberChangeView(from: &reader))
    }

    /// The owned copy of a change read in place.
    public init(_ view: MemberChangeView) {
        self.init(view.fields, text: view.bytes)
    }

    /// The owned copy of `fields`, whose ranges index `text`.
    public init(_ fields: MemberChangeFields, text: [UInt8]) {
        func string(_ range: Range<Int>) -> String { String(decoding: text[range], as: UTF8.self) }
        self.init(
            audienceID: string(fields.audienceID), userKey: string(fields.userKey), action: fields.action, snapshotID: string(fields.snapshotID),
            identifiers: RawIdentifiers(fields.identifiers, in: text), consent: fields.consent, eventTimeMilliseconds: fields.eventTimeMilliseconds)
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, audienceID)
        writer.string(2, userKey)
        writer.enumeration(3, action)
        writer.string(4, snapshotID)
        if identifiers != RawIdentifiers() { writer.message(5, identifiers) }
        writer.enumeration(6, consent)
        writer.int64(7, eventTimeMilliseconds)
    }
}

/// The value of a `cohortsync.members.v1` record: exactly one of its bodies.
public enum MemberRecord: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.MemberRecord"
    case change(MemberChange)
    case snapshot(SnapshotMarker)
    case lifecycle(AudienceLifecycle)

    public init(from reader: inout ProtoReader) throws(WireError) {
        self =
            switch try MemberRecordView(from: &reader) {
            case .change(let view): .change(MemberChange(view))
            case .snapshot(let marker): .snapshot(marker)
            case .lifecycle(let lifecycle): .lifecycle(lifecycle)
            }
    }

    /// Appends a record with a `change` body given by `fields`, whose ranges index `text`, to `buffer`:
    /// exactly the bytes of `MemberRecord.change(MemberChange(fields, text:))`, written in one pass into
    /// capacity sized beforehand, with no `MemberChange` or string. Ingest writes every member this way.
    public static func appendChange(_ fields: MemberChangeFields, text: Span<UInt8>, to buffer: inout [UInt8]) {
        typealias Size = ProtoSpanWriting
        // RawIdentifiers numbers its fields as IdentifierType numbers the kinds (email 1 … x_id 7).
        var identifiersSize = 0
        for kind in IdentifierType.kinds { identifiersSize += Size.lengthDelimitedSize(Int(kind.rawValue), count: fields.identifiers[kind].count) }
        let body =
            Size.lengthDelimitedSize(1, count: fields.audienceID.count) + Size.lengthDelimitedSize(2, count: fields.userKey.count)
            + Size.int64Size(3, Int64(fields.action.rawValue)) + Size.lengthDelimitedSize(4, count: fields.snapshotID.count)
            + (fields.identifiers.isEmpty ? 0 : Size.lengthDelimitedSize(5, count: identifiersSize, omitEmpty: false))
            + Size.int64Size(6, Int64(fields.consent.rawValue)) + Size.int64Size(7, fields.eventTimeMilliseconds)
        buffer.append(addingCapacity: Size.lengthDelimitedSize(1, count: body, omitEmpty: false)) { out in
            out.protoMessageHeader(1, length: body)
            out.protoBytes(1, text.extracting(fields.audienceID))
            out.protoBytes(2, text.extracting(fields.userKey))
            out.protoInt64(3, Int64(fields.action.rawValue))
            out.protoBytes(4, text.extracting(fields.snapshotID))
            if !fields.identifiers.isEmpty {
                out.protoMessageHeader(5, length: identifiersSize)
                for kind in IdentifierType.kinds { out.protoBytes(Int(kind.rawValue), text.extracting(fields.identifiers[kind])) }
            }
            out.protoInt64(6, Int64(fields.consent.rawValue))
            out.protoInt64(7, fields.eventTimeMilliseconds)
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        switch self {
        case .change(let change): writer.message(1, change)
        case .snapshot(let marker): writer.message(2, marker)
        case .lifecycle(let lifecycle): writer.message(3, lifecycle)
        }
    }
}
