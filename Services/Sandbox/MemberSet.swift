/// The members of one sandbox audience: each member is the union of the identifier keys and digests
/// uploaded for one user, the way the platforms match users.
///
/// Adding a user that shares any (key, digest) with existing members merges them into one; removing a
/// user removes every member that shares any (key, digest) with it, which is X's rule ("a Delete matches
/// a user on any key that was present when the user was added") and TikTok's.
struct MemberSet: Sendable {
    /// key (`email`, `EMAIL_SHA256`, ...) → digests.
    typealias Member = [String: Set<String>]

    /// One (key, digest) pair: the unit a platform matches users on.
    private struct IndexKey: Hashable {
        let key: String
        let digest: String
    }

    private var members: [Int: Member] = [:]
    private var index: [IndexKey: Int] = [:]
    private var nextID = 0

    var count: Int { members.count }

    private static func indexKey(_ key: String, _ digest: String) -> IndexKey { IndexKey(key: key, digest: digest) }

    private func matches(_ user: Member) -> Set<Int> {
        var found: Set<Int> = []
        for (key, digests) in user {
            for digest in digests {
                if let id = index[Self.indexKey(key, digest)] { found.insert(id) }
            }
        }
        return found
    }

    mutating func add(_ user: Member) {
        guard user.values.contains(where: { !$0.isEmpty }) else { return }
        var merged = user
        for id in matches(user) {
            for (key, digests) in members.removeValue(forKey: id) ?? [:] {
                merged[key, default: []].formUnion(digests)
            }
        }
        let id = nextID
        nextID += 1
        members[id] = merged
        for (key, digests) in merged {
            for digest in digests { index[Self.indexKey(key, digest)] = id }
        }
    }

    mutating func remove(_ user: Member) {
        for id in matches(user) {
            for (key, digests) in members.removeValue(forKey: id) ?? [:] {
                for digest in digests { index[Self.indexKey(key, digest)] = nil }
            }
        }
    }

    /// Every member with keys and digests sorted, members ordered by their first key and digest, for stable output.
    var sorted: [[String: [String]]] {
        members.values
            .map { member in member.mapValues { $0.sorted() } }
            .sorted { lhs, rhs in Self.sortKey(lhs) < Self.sortKey(rhs) }
    }

    private static func sortKey(_ member: [String: [String]]) -> String {
        member.keys.sorted().map { "\($0)=\(member[$0]!.joined(separator: ","))" }.joined(separator: ";")
    }
}
