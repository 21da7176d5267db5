/// A `MemberChange` read in place: its fields as ranges of the record's bytes, nothing copied.
///
/// Normalize reads one per member record and copies only what it writes on; `MemberChange`, the owned
/// form, is built from this one, so both read and refuse exactly the same bytes.
public struct MemberChangeView: Sendable {
    /// The record bytes every range of `fields` indexes into.
    public let bytes: [UInt8]
    public let fields: MemberChangeFields

    /// Reads the fields of a `MemberChange` until the reader's end, skipping unknown ones, over `base` (see
    /// `MemberChangeFields.init(from:merging:)`).
    /// - Throws: `WireError` naming the field that failed.
    public init(from reader: inout ProtoReader, merging base: MemberChangeFields = MemberChangeFields()) throws(WireError) {
        bytes = reader.buffer
        fields = try MemberChangeFields(from: &reader, merging: base)
    }

    /// The text at `range` (one of `fields`' ranges).
    public func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }
}

/// The fields of a `MemberChange` with its text as ranges of some bytes kept elsewhere: of a record read in
/// place (`MemberChangeView`), or of the text ingest copied out of an upstream record. An empty range is an
/// absent (empty) string, as proto3 has it.
public struct MemberChangeFields: Sendable, Equatable {
    public var audienceID: Range<Int> = 0..<0
    public var userKey: Range<Int> = 0..<0
    public var action = MemberAction.unspecified
    public var snapshotID: Range<Int> = 0..<0
    /// The raw identifier values by kind.
    public var identifiers = RawIdentifierRanges()
    public var consent = Consent.unspecified
    /// The consent number as written when this version does not know it (`consent` then reads unspecified,
    /// which means allowed): a reader must not take a newer writer's restriction for consent.
    public var unknownConsent: Int32?
    public var eventTimeMilliseconds: Int64 = 0

    public init() {}

    /// Reads the fields of a `MemberChange` until the reader's end, skipping unknown ones, over `base`: as
    /// protobuf merges a message written twice, a field present again replaces its value and the others stay.
    /// Ranges index the reader's buffer.
    /// - Throws: `WireError` naming the field that failed.
    public init(from reader: inout ProtoReader, merging base: MemberChangeFields = MemberChangeFields()) throws(WireError) {
        self = base
        while let field = try reader.nextField() {
            switch field.number {
            case 1: audienceID = try reader.stringRange(field, "audience_id")
            case 2: userKey = try reader.stringRange(field, "user_key")
            case 3: action = try reader.enumeration(field, "action")
            case 4: snapshotID = try reader.stringRange(field, "snapshot_id")
            case 5:
                var nested = try reader.nested(field, "identifiers")
                identifiers = try RawIdentifierRanges(from: &nested, merging: identifiers)
            case 6: (consent, unknownConsent) = try reader.knownEnumeration(field, "consent")
            case 7: eventTimeMilliseconds = try reader.int64(field, "event_time_ms")
            default: try reader.skip(field)
            }
        }
    }
}

/// Where each raw identifier of a `RawIdentifiers` message lies in some bytes.
public struct RawIdentifierRanges: Sendable, Equatable {
    private var email: Range<Int> = 0..<0
    private var phone: Range<Int> = 0..<0
    private var idfa: Range<Int> = 0..<0
    private var gaid: Range<Int> = 0..<0
    private var androidID: Range<Int> = 0..<0
    private var xHandle: Range<Int> = 0..<0
    private var xID: Range<Int> = 0..<0

    public init() {}

    /// Reads the fields of a `RawIdentifiers` until the reader's end, skipping unknown ones, over `base` (a
    /// message written twice merges, as protobuf has it).
    public init(from reader: inout ProtoReader, merging base: RawIdentifierRanges = RawIdentifierRanges()) throws(WireError) {
        self = base
        while let field = try reader.nextField() {
            switch field.number {
            case 1: email = try reader.stringRange(field, "email")
            case 2: phone = try reader.stringRange(field, "phone")
            case 3: idfa = try reader.stringRange(field, "idfa")
            case 4: gaid = try reader.stringRange(field, "gaid")
            case 5: androidID = try reader.stringRange(field, "android_id")
            case 6: xHandle = try reader.stringRange(field, "x_handle")
            case 7: xID = try reader.stringRange(field, "x_id")
            default: try reader.skip(field)
            }
        }
    }

    /// The range of the value of `kind`; empty when the user has none (always for `unspecified`, which
    /// holds no value).
    public subscript(kind: IdentifierType) -> Range<Int> {
        get {
            switch kind {
            case .unspecified: 0..<0
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

    /// Whether every value is empty (the message is then left out, as `MemberChange` leaves it out).
    var isEmpty: Bool { IdentifierType.kinds.allSatisfy { self[$0].isEmpty } }
}

/// The value of a `cohortsync.members.v1` record read in place: a member change as a view, the rare
/// control bodies decoded as usual.
public enum MemberRecordView: Sendable {
    case change(MemberChangeView)
    case snapshot(SnapshotMarker)
    case lifecycle(AudienceLifecycle)

    /// Reads a `MemberRecord`'s body, as protobuf reads a `oneof`: a different body present later replaces the
    /// one before; the same body written twice merges (a member change, field by field).
    /// - Throws: `WireError` naming the field that failed, or `missingBody`.
    public init(from reader: inout ProtoReader) throws(WireError) {
        var body: MemberRecordView?
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                var nested = try reader.nested(field, "change")
                let earlier: MemberChangeFields? = if case .change(let view) = body { view.fields } else { nil }
                body = .change(try MemberChangeView(from: &nested, merging: earlier ?? MemberChangeFields()))
            case 2: body = .snapshot(try reader.message(field, "snapshot"))
            case 3: body = .lifecycle(try reader.message(field, "lifecycle"))
            default: try reader.skip(field)
            }
        }
        guard let body else { throw WireError(code: .missingBody, message: "\(MemberRecord.protoName) has no change, snapshot or lifecycle") }
        self = body
    }

    /// Decodes protobuf binary form in place.
    public init(serializedBytes bytes: [UInt8]) throws(WireError) {
        var reader = ProtoReader(bytes, context: MemberRecord.protoName)
        try self.init(from: &reader)
    }
}
