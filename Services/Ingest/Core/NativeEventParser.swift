import Foundation
import Wire

/// The CohortSync native upstream format (DESIGN "Upstream input"), one JSON object per record.
enum NativeEventParser {
    /// The fields of a native record, every one read and type-checked whatever the record's type, so a
    /// wrong type anywhere is refused the same way for every kind of record.
    private struct Fields {
        var type: String?
        var audienceID: String?
        var audienceName: String?
        var action: String?
        var user: FieldReader?
        var userID: Range<Int>?
        var identifiers = RawIdentifierRanges()
        var consent: Bool?
        var timestamp: String?
        var snapshot: String?
        var members: Int64?

        /// The user's identifier fields in the order they are read, with their bounds.
        static let identifierFields: [(kind: IdentifierType, bound: Int)] = [
            (.email, FieldBounds.email), (.phone, FieldBounds.identifier), (.idfa, FieldBounds.identifier), (.gaid, FieldBounds.identifier),
            (.androidID, FieldBounds.identifier), (.xHandle, FieldBounds.identifier), (.xID, FieldBounds.identifier),
        ]

        /// Reads every field; the user's id and identifiers are copied into `text`.
        init(_ record: FieldReader, text: inout FieldText) throws(IngestRefusal) {
            type = try record.string("type", bound: FieldBounds.word)
            if let audience = try record.object("audience") {
                audienceID = try audience.string("id", bound: FieldBounds.audienceID)
                audienceName = try audience.string("name", bound: FieldBounds.audienceName)
            }
            action = try record.string("action", bound: FieldBounds.word)
            if let user = try record.object("user") {
                self.user = user
                userID = try user.text("id", bound: FieldBounds.userID, into: &text)
                for (kind, bound) in Self.identifierFields {
                    if let value = try user.text(kind.name, bound: bound, into: &text) { identifiers[kind] = value }
                }
            }
            consent = try record.object("consent")?.bool("ads")
            timestamp = try record.string("timestamp", bound: FieldBounds.word)
            snapshot = try record.string("snapshot", bound: FieldBounds.snapshotID)
            members = try record.integer("members")
        }
    }

    /// Validates one native record.
    /// - Throws: `IngestRefusal` naming the field that is missing or wrong.
    static func event(_ record: FieldReader, text: inout FieldText) throws(IngestRefusal) -> UpstreamEvent {
        let fields = try Fields(record, text: &text)
        guard let type = fields.type else {
            throw IngestRefusal(reason: "unknown-type", detail: "type is missing; use membership, snapshot_begin, snapshot_member, snapshot_end or audience")
        }
        guard let audienceID = fields.audienceID, !audienceID.isEmpty else {
            throw IngestRefusal(reason: "missing-audience-id", detail: "audience.id is required")
        }
        // Snapshot markers pass no time on: theirs must be a time, of any year.
        let time = type == "snapshot_begin" || type == "snapshot_end"
            ? try EventTime.readable(fields.timestamp, field: "timestamp") ?? 0 : try EventTime.milliseconds(fields.timestamp, field: "timestamp")
        switch type {
        case "membership", "snapshot_member":
            let action: MemberAction
            if type == "membership" {
                switch fields.action {
                case "enter": action = .enter
                case "exit": action = .exit
                default: throw IngestRefusal(reason: "invalid-action", detail: "action must be enter or exit for membership")
                }
            } else {
                action = .snapshotMember
            }
            let snapshot = fields.snapshot ?? ""
            if action == .snapshotMember, snapshot.isEmpty {
                throw IngestRefusal(reason: "missing-snapshot-id", detail: "snapshot is required for snapshot_member")
            }
            guard fields.user != nil else {
                throw IngestRefusal(reason: "missing-user", detail: "user is required for \(type)")
            }
            guard let key = UserKeys.key(userID: fields.userID, identifiers: fields.identifiers, text: &text) else {
                throw IngestRefusal(reason: "missing-user", detail: "user needs an id or at least one identifier")
            }
            var change = MemberChangeFields()
            change.audienceID = text.append(audienceID.utf8)
            change.userKey = key
            change.action = action
            change.snapshotID = text.append(snapshot.utf8)
            change.identifiers = fields.identifiers
            change.consent = fields.consent.map { $0 ? .granted : .denied } ?? .unspecified
            change.eventTimeMilliseconds = time
            return .member(UpstreamMember(audienceID: audienceID, snapshotID: snapshot, fields: change))
        case "snapshot_begin", "snapshot_end":
            guard let snapshot = fields.snapshot, !snapshot.isEmpty else {
                throw IngestRefusal(reason: "missing-snapshot-id", detail: "snapshot is required for \(type)")
            }
            if type == "snapshot_begin" { return .snapshotBegin(audienceID: audienceID, snapshotID: snapshot) }
            guard let members = fields.members, members >= 0 else {
                throw IngestRefusal(reason: "invalid-field", detail: "members: snapshot_end needs the member count")
            }
            return .snapshotEnd(audienceID: audienceID, snapshotID: snapshot, declaredMembers: members)
        case "audience":
            let event: AudienceEvent
            switch fields.action {
            case "created": event = .created
            case "renamed": event = .renamed
            case "deleted": event = .deleted
            default: throw IngestRefusal(reason: "invalid-action", detail: "action must be created, renamed or deleted for audience")
            }
            return .lifecycle(AudienceLifecycle(audienceID: audienceID, name: fields.audienceName ?? "", event: event, eventTimeMilliseconds: time))
        default:
            throw IngestRefusal(reason: "unknown-type", detail: "type must be membership, snapshot_begin, snapshot_member, snapshot_end or audience")
        }
    }
}
