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

    @Test("200,000 mutated records: whatever the view takes, the full decoding decodes to the same member")
    func fuzzedMembers() throws {
        let corpus = Self.plainMembers.map { BatcherState.member($0).serializedBytes() }
            + [BatcherState.audience(WireSamples.audienceState).serializedBytes(), BatcherState.withdrawal(WireSamples.withdrawal).serializedBytes()]
        var fuzzer = Fuzzer(defaultSeed: 0x5E_7A7E, corpus: corpus, dictionary: WireFuzzTests.dictionary, maxLength: 1_024)
        var view = MemberStateView()
        var taken = 0
        var left = 0
        let count = Fuzzer.inputCount(standard: 200_000)
        _ = try fuzzer.run(target: "member-state-view", count: count) { _, input in
            guard view.read(input) else {
                left += 1
                return
            }
            taken += 1
            guard let member = Self.fullMember(input) else { throw TestSupportError("the view took a record the full decoding refuses") }
            guard Self.same(view, member) else { throw TestSupportError("the view read \(view.sentIdentifiers) where the record holds \(member)") }
        }
        print("member-state-view: \(taken) taken, \(left) left to the full decoding")
        #expect(taken + left == count)
        // Both outcomes must occur often, or the mutations no longer reach the view.
        #expect(taken > count / 100 && left > count / 100)
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

    @Test("200,000 mutated keys: ranges exactly when parseKey reads an ASCII member key, naming the same parts")
    func fuzzedKeys() throws {
        var corpus: [[UInt8]] = []
        for (connection, audience, user) in [("x-main", "aud_42", "u_1"), ("c", "", "user@example.com"), ("tiktok", "a", String(repeating: "k", count: 200))] {
            var key: [UInt8] = []
            BatcherState.memberKey(connectionID: connection, audienceID: audience, userKey: user, into: &key)
            corpus.append(key)
        }
        var audienceKey: [UInt8] = []
        BatcherState.audienceKey(connectionID: "x-main", audienceID: "aud", into: &audienceKey)
        corpus.append(audienceKey)
        var fuzzer = Fuzzer(defaultSeed: 0x6E_75, corpus: corpus, dictionary: [[0x6D], [0x00], [0x7F], [0x80], [0x03]], maxLength: 512)
        var ranged = 0
        let count = Fuzzer.inputCount(standard: 200_000)
        _ = try fuzzer.run(target: "member-key-ranges", count: count) { _, key in
            let parsed = BatcherState.parseKey(key)
            guard let parts = BatcherState.memberKeyRanges(key) else {
                if case .member? = parsed, key.allSatisfy({ $0 < 0x80 }) { throw TestSupportError("an ASCII member key was left to parseKey") }
                return
            }
            ranged += 1
            guard case .member(let connection, let audience, let user)? = parsed else { throw TestSupportError("ranges for a key parseKey does not read as a member") }
            var expected: [UInt8] = []
            BatcherState.memberKey(connectionID: connection, audienceID: audience, userKey: user, into: &expected)
            guard expected == key, String(decoding: key[parts.userKey], as: UTF8.self) == user,
                Array(key[parts.sync]) == Array(expected[1..<(expected.count - 1 - user.utf8.count)])
            else { throw TestSupportError("ranges \(parts) do not name \(connection)/\(audience)/\(user)") }
        }
        print("member-key-ranges: \(ranged) of \(count) keys read in place")
        #expect(ranged > count / 100)
    }
}
