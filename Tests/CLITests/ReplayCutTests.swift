import Testing
import Wire

@testable import CLI

/// What `dlq replay` keeps of a dead-lettered batch, given what the batcher's changelog says now.
@Suite("cohortsync dlq replay: the cut to what the changelog intends")
struct ReplayCutTests {
    static let email = HashedIdentifier(type: .email, sha256: Array(repeating: 0x0E, count: 32))
    static let phone = HashedIdentifier(type: .phone, sha256: Array(repeating: 0x0F, count: 32))

    static func batch(_ operation: BatchOperation, _ users: [BatchUser]) -> Batch {
        Batch(batchID: "b1", connectionID: "x-main", audienceID: "aud", destination: .x, operation: operation, users: users)
    }

    static func changelog(deleted: Bool, sent: [String: Set<HashedIdentifier>]) -> ChangelogSnapshot {
        let audience = ChangelogSnapshot.AudienceKey(connection: "x-main", audience: "aud")
        var snapshot = ChangelogSnapshot()
        var state = AudienceState(connectionID: "x-main", audienceID: "aud")
        state.deleted = deleted
        snapshot.audiences[audience] = [state]
        for (user, identifiers) in sent { snapshot.sent[ChangelogSnapshot.MemberKey(audience: audience, user: user)] = identifiers }
        return snapshot
    }

    @Test("an audience deleted upstream since gets no adds, but its removals still go: it may be kept at the destination, or its deletion failed")
    func deletedAudience() throws {
        let users = [BatchUser(userKey: "withdrew", identifiers: [Self.email]), BatchUser(userKey: "holds", identifiers: [Self.phone])]
        let deleted = Self.changelog(deleted: true, sent: ["holds": [Self.phone]])
        let removal = try #require(DeadLetterCommand.stillIntended(Self.batch(.remove, users), deleted))
        #expect(removal.users.map(\.userKey) == ["withdrew"], "a user still holding the identifiers is not removed")
        #expect(DeadLetterCommand.stillIntended(Self.batch(.add, users), deleted) == nil)
        #expect(DeadLetterCommand.stillIntended(Self.batch(.deleteAudience, []), deleted) != nil)

        let live = Self.changelog(deleted: false, sent: ["withdrew": [Self.email]])
        #expect(DeadLetterCommand.stillIntended(Self.batch(.remove, users), live)?.users.map(\.userKey) == ["holds"])
        #expect(DeadLetterCommand.stillIntended(Self.batch(.add, users), live)?.users.map(\.userKey) == ["withdrew"])
        #expect(DeadLetterCommand.stillIntended(Self.batch(.deleteAudience, []), live) == nil)
    }
}
