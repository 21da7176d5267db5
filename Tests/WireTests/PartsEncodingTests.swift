import Testing
import Wire

/// The encoders the stages write millions of records with, from parts in one pass, against the message
/// types' own encoding: the bytes must be the same, whatever the field sizes.
@Suite("Wire: records written from parts")
struct PartsEncodingTests {
    /// Texts of every size class a length prefix has: empty, short, 127/128 bytes (one or two length
    /// bytes), 16,384 (three), and non-ASCII.
    static let texts = ["", "a", "aud_42", String(repeating: "k", count: 127), String(repeating: "k", count: 128), "Zoë ✓ 名前",
        String(repeating: "x", count: 16_384)]

    /// Changes that together give each field each size class, each action and consent, and times of every sign.
    static var changes: [MemberChange] {
        var changes: [MemberChange] = []
        for (index, text) in texts.enumerated() {
            let other = texts[(index + 3) % texts.count]
            var identifiers = RawIdentifiers()
            for (position, kind) in IdentifierType.kinds.enumerated() where (index + position) % 3 != 0 {
                identifiers[kind] = position % 2 == 0 ? text : other
            }
            changes.append(MemberChange(
                audienceID: text, userKey: other, action: MemberAction.allCases[index % MemberAction.allCases.count], snapshotID: index % 2 == 0 ? other : "",
                identifiers: identifiers, consent: Consent.allCases[index % Consent.allCases.count],
                eventTimeMilliseconds: [0, 1, -1, 1_795_000_000_000, Int64.min, Int64.max][index % 6]))
            changes.append(MemberChange(audienceID: text, userKey: text))
        }
        return changes
    }

    @Test("a member change written from its fields is byte for byte the MemberRecord it stands for")
    func memberChange() throws {
        let changes = Self.changes
        try #require(changes.count == 2 * Self.texts.count)
        for change in changes {
            // The parts as ingest holds them: every text end to end in one buffer, fields as ranges of it.
            var text: [UInt8] = [0xEE]
            func place(_ value: String) -> Range<Int> {
                let start = text.count
                text.append(contentsOf: value.utf8)
                return start..<text.count
            }
            var fields = MemberChangeFields()
            fields.audienceID = place(change.audienceID)
            fields.userKey = place(change.userKey)
            fields.action = change.action
            fields.snapshotID = place(change.snapshotID)
            for kind in IdentifierType.kinds { fields.identifiers[kind] = place(change.identifiers[kind]) }
            fields.consent = change.consent
            fields.eventTimeMilliseconds = change.eventTimeMilliseconds
            #expect(MemberChange(fields, text: text) == change)

            var written: [UInt8] = [1, 2, 3]
            MemberRecord.appendChange(fields, text: text.span, to: &written)
            #expect(written == [1, 2, 3] + MemberRecord.change(change).serializedBytes(), "audience of \(change.audienceID.utf8.count) bytes")
        }
    }

    /// `member` written by `HashedRecord.appendMember` after a byte of 9, from its parts as normalize holds them.
    static func appendMember(_ member: HashedMember) -> [UInt8] {
        let connectionID = Array(member.connectionID.utf8)
        let audienceID = Array(member.audienceID.utf8)
        let userKey = Array(member.userKey.utf8)
        let snapshotID = Array(member.snapshotID.utf8)
        let types = member.identifiers.map(\.type)
        let digests = member.identifiers.flatMap(\.sha256)
        var written: [UInt8] = [9]
        HashedRecord.appendMember(
            connectionID: connectionID.span, audienceID: audienceID.span, userKey: userKey.span, action: member.action, snapshotID: snapshotID.span,
            identifierTypes: types.span, digests: digests.span, eventTimeMilliseconds: member.eventTimeMilliseconds, to: &written)
        return written
    }

    @Test("a hashed member written from its parts is byte for byte the HashedRecord it stands for")
    func hashedMember() throws {
        var compared = 0
        for (index, text) in Self.texts.enumerated() {
            for identifierCount in 0...3 {
                let types = (0..<identifierCount).map { IdentifierType.allCases[($0 + index) % IdentifierType.allCases.count] }
                let digests = (0..<identifierCount).map { number in (0..<32).map { UInt8(truncatingIfNeeded: $0 * (number + 3) + index) } }
                let member = HashedMember(
                    connectionID: Self.texts[(index + 1) % Self.texts.count], audienceID: text, userKey: Self.texts[(index + 2) % Self.texts.count],
                    action: MemberAction.allCases[(index + identifierCount) % MemberAction.allCases.count], snapshotID: identifierCount % 2 == 0 ? text : "",
                    identifiers: zip(types, digests).map { HashedIdentifier(type: $0, sha256: $1) },
                    eventTimeMilliseconds: [0, 7, -7, Int64.max][identifierCount])
                let written = Self.appendMember(member)
                #expect(written == [9] + HashedRecord.member(member).serializedBytes(), "\(identifierCount) identifiers, audience of \(text.utf8.count) bytes")
                #expect(try HashedRecord(serializedBytes: Array(written.dropFirst())) == .member(member))
                compared += 1
            }
        }
        #expect(compared == Self.texts.count * 4)
    }

    @Test("a member change or its identifiers written twice merge field by field, as protobuf merges a repeated message")
    func repeatedMessagesMerge() throws {
        var first = ProtoWriter()
        first.string(1, "aud_1")
        first.string(2, "u_1")
        first.message(5, RawIdentifiers(email: "one@example.com"))
        first.message(5, RawIdentifiers(phone: "+447400123456"))
        var second = ProtoWriter()
        second.string(2, "u_2")
        /// A `MemberRecord` field (1: change, 2: snapshot) holding `body` as it is; bodies here are under 128 bytes.
        func field(_ number: UInt8, _ body: [UInt8]) throws -> [UInt8] {
            try #require(body.count < 128)
            return [number << 3 | 2, UInt8(body.count)] + body
        }
        let merged = try MemberRecord(serializedBytes: try field(1, first.bytes) + field(1, second.bytes))
        #expect(merged == .change(MemberChange(audienceID: "aud_1", userKey: "u_2", identifiers: RawIdentifiers(email: "one@example.com", phone: "+447400123456"))))

        // A different body in between starts the change afresh, as a oneof does.
        let marker = SnapshotMarker(audienceID: "aud_1", snapshotID: "s").serializedBytes()
        let interrupted = try field(1, first.bytes) + field(2, marker) + field(1, second.bytes)
        #expect(try MemberRecord(serializedBytes: interrupted) == .change(MemberChange(userKey: "u_2")))
    }
}
