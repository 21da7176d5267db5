import TestSupport
import Testing
import Wire

/// The in-place changelog readers against the full decoding over mutated records and keys (run with the other
/// fuzz suites, apart from the timing-sensitive tests).
@Suite("Wire: changelog records read in place, fuzzed")
struct ChangelogInPlaceFuzzTests {
    @Test("200,000 mutated records: whatever the view takes, the full decoding decodes to the same member")
    func fuzzedMembers() throws {
        let corpus = ChangelogInPlaceTests.plainMembers.map { BatcherState.member($0).serializedBytes() }
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
            guard let member = ChangelogInPlaceTests.fullMember(input) else { throw TestSupportError("the view took a record the full decoding refuses") }
            guard ChangelogInPlaceTests.same(view, member) else { throw TestSupportError("the view read \(view.sentIdentifiers) where the record holds \(member)") }
        }
        print("member-state-view: \(taken) taken, \(left) left to the full decoding")
        #expect(taken + left == count)
        // Both outcomes must occur often, or the mutations no longer reach the view.
        #expect(taken > count / 100 && left > count / 100)
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
