import Wire

/// The fields of one native record as read, before any meaning is given to them: every text as a range of
/// the record's `FieldText` (escapes resolved), so the general reader (`FieldReader`) and the one-pass
/// scanner (`NativeRecordScanner`) hand `NativeEventParser` the same thing and every refusal after reading
/// is made once, in one place.
struct NativeFields {
    var type: Range<Int>?
    var audienceID: Range<Int>?
    var audienceName: Range<Int>?
    var action: Range<Int>?
    /// Whether the record has a `user` object (an empty one counts).
    var hasUser = false
    var userID: Range<Int>?
    var identifiers = RawIdentifierRanges()
    var consent: Bool?
    var timestamp: Range<Int>?
    var snapshot: Range<Int>?
    var members: Int64?

    /// Reads every field through `record`, in a fixed order, whatever the record's type, so a wrong type
    /// anywhere is refused the same way for every kind of record; text is copied into `text`.
    /// - Throws: `IngestRefusal` naming the first field that is written twice, of the wrong type or too long.
    init(_ record: FieldReader, text: inout FieldText) throws(IngestRefusal) {
        type = try record.text("type", bound: FieldBounds.word, into: &text)
        if let audience = try record.object("audience") {
            audienceID = try audience.text("id", bound: FieldBounds.audienceID, into: &text)
            audienceName = try audience.text("name", bound: FieldBounds.audienceName, into: &text)
        }
        action = try record.text("action", bound: FieldBounds.word, into: &text)
        if let user = try record.object("user") {
            hasUser = true
            userID = try user.text("id", bound: FieldBounds.userID, into: &text)
            for kind in IdentifierType.kinds {
                if let value = try user.text(kind.name, bound: FieldBounds.of(kind), into: &text) { identifiers[kind] = value }
            }
        }
        consent = try record.object("consent")?.bool("ads")
        timestamp = try record.text("timestamp", bound: FieldBounds.word, into: &text)
        snapshot = try record.text("snapshot", bound: FieldBounds.snapshotID, into: &text)
        members = try record.integer("members")
    }

    /// No field read yet: the scanner fills them in as it meets them.
    init() {}
}
