import TestSupport
import Testing
import Wire

/// The batcher's restore reads changelog records in place (`MemberStateView`, `BatcherState.memberKeyRanges`)
/// and leaves every other record to the full decoding: whatever the in-place readers take, they must read
/// exactly as the full decoding does, or a restored member differs from the one that was written.
@Suite("Wire: changelog records read in place")
struct ChangelogInPlaceTests {
    static let plainMembers: [MemberState] = [
        WireSamples.state,
        MemberState(connectionID: "tiktok", audienceID: "aud", userKey: "u2"),
        MemberState(
            connectionID: "x-main", audienceID: "aud", userKey: "jos\u{E9}", sent: [HashedIdentifier(type: .xID, sha256: [1, 2, 3])],
            updatedAtMilliseconds: -5, seenSequence: Int64.max, flush: 1),
    ]

    /// What the full decoding of `bytes` makes of them: the member when it is one.
    static func fullMember(_ bytes: [UInt8]) -> MemberState? {
        guard case .member(let member)? = try? BatcherState(serializedBytes: bytes) else { return nil }
        return member
    }

    /// Whether `view` holds what `member` holds, field by field as a restore uses them.
    static func same(_ view: MemberStateView, _ member: MemberState) -> Bool {
        // Bytes, not `String ==`: the restore keys members by their bytes.
        Array(view.bytes[view.userKey]) == Array(member.userKey.utf8) && view.sentIdentifiers == member.sent
            && view.previous == member.previous && view.updatedAtMilliseconds == member.updatedAtMilliseconds
            && view.seenSequence == member.seenSequence && view.flush == member.flush
    }

    @Test("a plain member record reads in place as it decodes, one view reused across records")
    func plainMembers() throws {
        var view = MemberStateView()
        for member in Self.plainMembers {
            let taken = view.read(BatcherState.member(member).serializedBytes())
            #expect(taken)
            #expect(Self.same(view, member), "\(member)")
        }
    }

    /// Whether a fresh view takes `bytes`.
    static func reads(_ bytes: [UInt8]) -> Bool {
        var view = MemberStateView()
        return view.read(bytes)
    }

    @Test("other bodies, a body written twice and an empty record are left to the full decoding")
    func otherShapes() throws {
        let member = BatcherState.member(WireSamples.state).serializedBytes()
        #expect(!Self.reads(BatcherState.audience(WireSamples.audienceState).serializedBytes()))
        #expect(!Self.reads(BatcherState.withdrawal(WireSamples.withdrawal).serializedBytes()))
        // Written twice, the full decoding takes the second member; the view does not guess.
        let other = BatcherState.member(Self.plainMembers[1]).serializedBytes()
        #expect(Self.fullMember(member + other) == Self.plainMembers[1])
        #expect(!Self.reads(member + other))
        // A member, then another body: the full decoding takes the last body.
        #expect(!Self.reads(member + BatcherState.audience(WireSamples.audienceState).serializedBytes()))
        #expect(!Self.reads([]))
        #expect(!Self.reads(Array(member.dropLast())))
    }

    @Test("a member key's ranges name the parts parseKey reads; keys outside ASCII and other kinds are left to parseKey")
    func memberKeys() throws {
        var key: [UInt8] = []
        BatcherState.memberKey(connectionID: "x-main", audienceID: "aud_42", userKey: "u_1", into: &key)
        let parts = try #require(BatcherState.memberKeyRanges(key))
        #expect(String(decoding: key[parts.userKey], as: UTF8.self) == "u_1")
        var sync: [UInt8] = []
        BatcherState.memberKey(connectionID: "x-main", audienceID: "aud_42", userKey: "", into: &sync)
        #expect(Array(key[parts.sync]) == Array(sync[1..<(sync.count - 1)]))

        var unicode: [UInt8] = []
        BatcherState.memberKey(connectionID: "x-main", audienceID: "aud", userKey: "jos\u{E9}", into: &unicode)
        #expect(BatcherState.memberKeyRanges(unicode) == nil)
        var withdrawal: [UInt8] = []
        BatcherState.withdrawalKey(connectionID: "x-main", audienceID: "aud", userKey: "u_1", into: &withdrawal)
        #expect(BatcherState.memberKeyRanges(withdrawal) == nil)
    }

}
