import Wire

/// The CohortSync native upstream format (DESIGN "Upstream input"), one JSON object per record.
enum NativeEventParser {
    /// Reads and validates one native record through the general JSON reader.
    /// - Throws: `IngestRefusal` naming the field that is missing or wrong.
    static func event(_ record: FieldReader, text: inout FieldText) throws(IngestRefusal) -> UpstreamEvent {
        try event(NativeFields(record, text: &text), text: &text)
    }

    /// Validates the fields of one native record, read by either reader, their text in `text`.
    /// - Throws: `IngestRefusal` naming the field that is missing or wrong.
    static func event(_ fields: NativeFields, text: inout FieldText) throws(IngestRefusal) -> UpstreamEvent {
        guard let type = fields.type else {
            throw IngestRefusal(reason: "unknown-type", detail: "type is missing; use membership, snapshot_begin, snapshot_member, snapshot_end or audience")
        }
        guard let audienceRange = fields.audienceID, !audienceRange.isEmpty else {
            throw IngestRefusal(reason: "missing-audience-id", detail: "audience.id is required")
        }
        let isMembership = text.equals(type, "membership")
        let isSnapshotMember = text.equals(type, "snapshot_member")
        let isSnapshotBegin = text.equals(type, "snapshot_begin")
        let isSnapshotEnd = text.equals(type, "snapshot_end")
        // Snapshot markers pass no time on: theirs must be a time, of any year.
        let time = isSnapshotBegin || isSnapshotEnd
            ? try EventTime.readable(fields.timestamp, in: text, field: "timestamp") ?? 0
            : try EventTime.milliseconds(fields.timestamp, in: text, field: "timestamp")
        let audienceID = text.string(audienceRange)
        if isMembership || isSnapshotMember {
            let action: MemberAction
            if isMembership {
                if text.equals(fields.action, "enter") {
                    action = .enter
                } else if text.equals(fields.action, "exit") {
                    action = .exit
                } else {
                    throw IngestRefusal(reason: "invalid-action", detail: "action must be enter or exit for membership")
                }
            } else {
                action = .snapshotMember
            }
            let snapshot = fields.snapshot ?? 0..<0
            if action == .snapshotMember, snapshot.isEmpty {
                throw IngestRefusal(reason: "missing-snapshot-id", detail: "snapshot is required for snapshot_member")
            }
            guard fields.hasUser else {
                throw IngestRefusal(reason: "missing-user", detail: "user is required for \(text.string(type))")
            }
            guard let key = UserKeys.key(userID: fields.userID, identifiers: fields.identifiers, text: &text) else {
                throw IngestRefusal(reason: "missing-user", detail: "user needs an id or at least one identifier")
            }
            var change = MemberChangeFields()
            change.audienceID = audienceRange
            change.userKey = key
            change.action = action
            change.snapshotID = snapshot
            change.identifiers = fields.identifiers
            change.consent = fields.consent.map { $0 ? .granted : .denied } ?? .unspecified
            change.eventTimeMilliseconds = time
            return .member(UpstreamMember(audienceID: audienceID, snapshotID: snapshot.isEmpty ? "" : text.string(snapshot), fields: change))
        }
        if isSnapshotBegin || isSnapshotEnd {
            guard let snapshot = fields.snapshot, !snapshot.isEmpty else {
                throw IngestRefusal(reason: "missing-snapshot-id", detail: "snapshot is required for \(text.string(type))")
            }
            if isSnapshotBegin { return .snapshotBegin(audienceID: audienceID, snapshotID: text.string(snapshot)) }
            guard let members = fields.members, members >= 0 else {
                throw IngestRefusal(reason: "invalid-field", detail: "members: snapshot_end needs the member count")
            }
            return .snapshotEnd(audienceID: audienceID, snapshotID: text.string(snapshot), declaredMembers: members)
        }
        if text.equals(type, "audience") {
            let event: AudienceEvent
            if text.equals(fields.action, "created") {
                event = .created
            } else if text.equals(fields.action, "renamed") {
                event = .renamed
            } else if text.equals(fields.action, "deleted") {
                event = .deleted
            } else {
                throw IngestRefusal(reason: "invalid-action", detail: "action must be created, renamed or deleted for audience")
            }
            let name = fields.audienceName.map { text.string($0) } ?? ""
            return .lifecycle(AudienceLifecycle(audienceID: audienceID, name: name, event: event, eventTimeMilliseconds: time))
        }
        throw IngestRefusal(reason: "unknown-type", detail: "type must be membership, snapshot_begin, snapshot_member, snapshot_end or audience")
    }
}
