/// A `MemberChange` read in place: each text field a range of `bytes`, nothing copied.
///
/// Normalize reads one per member record and copies only what it writes on; `MemberChange`, the owned
/// form, is built from this one, so both read and refuse exactly the same bytes.
public struct MemberChangeView: Sendable {
    /// The record bytes every range indexes into.
    public let bytes: [UInt8]
    public private(set) var audienceID: Range<Int> = 0..<0
    public private(set) var userKey: Range<Int> = 0..<0
    public private(set) var action = MemberAction.unspecified
    public private(set) var snapshotID: Range<Int> = 0..<0
    /// The raw identifier values by kind; an absent one is an empty range.
    public private(set) var identifiers = RawIdentifierRanges()
    public private(set) var consent = Consent.unspecified
    public private(set) var eventTimeMilliseconds: Int64 = 0

    /// Reads the fields of a `MemberChange` until the reader's end, skipping unknown ones.
    /// - Throws: `WireError` naming the field that failed.
    public init(from reader: inout ProtoReader) throws(WireError) {
        bytes = reader.buffer
        while let field = try reader.nextField() {
            switch field.number {
            case 1: audienceID = try reader.stringRange(field, "audience_id")
            case 2: userKey = try reader.stringRange(field, "user_key")
            case 3: action = try reader.enumeration(field, "action")
            case 4: snapshotID = try reader.stringRange(field, "snapshot_id")
            case 5:
                var nested = try reader.nested(field, "identifiers")
                identifiers = try RawIdentifierRanges(from: &nested)
            case 6: consent = try reader.enumeration(field, "consent")
            case 7: eventTimeMilliseconds = try reader.int64(field, "event_time_ms")
            default: try reader.skip(field)
            }
        }
    }

    /// The text at `range` (one of this view's ranges).
    public func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }
}

/// Where each raw identifier of a `RawIdentifiers` message lies in the record's bytes.
public struct RawIdentifierRanges: Sendable {
    private var email: Range<Int> = 0..<0
    private var phone: Range<Int> = 0..<0
    private var idfa: Range<Int> = 0..<0
    private var gaid: Range<Int> = 0..<0
    private var androidID: Range<Int> = 0..<0
    private var xHandle: Range<Int> = 0..<0
    private var xID: Range<Int> = 0..<0

    public init() {}

    /// Reads the fields of a `RawIdentifiers` until the reader's end, skipping unknown ones.
    public init(from reader: inout ProtoReader) throws(WireError) {
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

    /// The range of the value of `kind`; empty when the user has none (and for `unspecified`).
    public subscript(kind: IdentifierType) -> Range<Int> {
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
}

/// The value of a `cohortsync.members.v1` record read in place: a member change as a view, the rare
/// control bodies decoded as usual.
public enum MemberRecordView: Sendable {
    case change(MemberChangeView)
    case snapshot(SnapshotMarker)
    case lifecycle(AudienceLifecycle)

    /// Reads a `MemberRecord`'s body; the last body present wins, as protobuf's `oneof` does.
    /// - Throws: `WireError` naming the field that failed, or `missingBody`.
    public init(from reader: inout ProtoReader) throws(WireError) {
        var body: MemberRecordView?
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                var nested = try reader.nested(field, "change")
                body = .change(try MemberChangeView(from: &nested))
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
