import Hashing

/// The members of one sandbox audience: each member is the union of the identifier keys and digests
/// uploaded for one user, the way the platforms match users.
///
/// Adding a user that shares any (key, digest) with existing members merges them into one; removing a
/// user removes every member that shares any (key, digest) with it, which is X's rule ("a Delete matches
/// a user on any key that was present when the user was added") and TikTok's.
///
/// Identifiers are stored as a key number and the digest's 32 bytes, never as strings: an audience of
/// millions costs a flat index, and a request's digests go from its body's bytes to the index without one.
struct MemberSet: Sendable {
    /// The keys both platforms match on; an identifier holds its key's position here.
    static let keys = ["email", "phone_number", "handle", "twitter_id", "device_id", "EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_SHA256"]
    static let keyNumbers: [String: UInt8] = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, UInt8($0)) })
    private static let keyBytes: [[UInt8]] = keys.map { Array($0.utf8) }

    /// The number of the key whose UTF-8 bytes are `bytes`, without making a string of them; nil for none.
    static func keyNumber(_ bytes: ArraySlice<UInt8>) -> UInt8? {
        for (number, key) in keyBytes.enumerated() where key.count == bytes.count && key.elementsEqual(bytes) { return UInt8(number) }
        return nil
    }

    /// One (key, digest) pair: the unit a platform matches users on.
    struct Identifier: Hashable, Sendable, Comparable {
        let key: UInt8
        let digest: (UInt64, UInt64, UInt64, UInt64)

        init(key: UInt8, digest: (UInt64, UInt64, UInt64, UInt64)) {
            self.key = key
            self.digest = digest
        }

        /// From 64 lowercase hex characters; nil for anything else.
        init?(key: UInt8, hex: ArraySlice<UInt8>) {
            guard hex.count == 64 else { return nil }
            let start = hex.startIndex
            guard let first = Self.word(hex, start), let second = Self.word(hex, start + 16), let third = Self.word(hex, start + 32),
                let fourth = Self.word(hex, start + 48)
            else { return nil }
            self.key = key
            digest = (first, second, third, fourth)
        }

        /// The value of a lowercase hex digit, or 0xFF: one table read per character, the sandbox's hottest loop.
        private static let nibbles: [UInt8] = (0...255).map { byte in
            switch UInt8(byte) {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
            default: 0xFF
            }
        }

        /// The 16 hex characters at `start` as one word, or nil if any is not a lowercase hex digit.
        private static func word(_ hex: ArraySlice<UInt8>, _ start: Int) -> UInt64? {
            var word: UInt64 = 0
            var invalid: UInt8 = 0
            for position in start..<(start + 16) {
                let nibble = nibbles[Int(hex[position])]
                invalid |= nibble
                word = word << 4 | UInt64(nibble & 0x0F)
            }
            return invalid & 0xF0 == 0 ? word : nil
        }

        var hex: String {
            var text: [UInt8] = []
            appendHex(to: &text)
            return String(decoding: text, as: UTF8.self)
        }

        /// The digest as 64 lowercase hex digits.
        func appendHex(to text: inout [UInt8]) {
            Self.appendHex(digest.0, to: &text)
            Self.appendHex(digest.1, to: &text)
            Self.appendHex(digest.2, to: &text)
            Self.appendHex(digest.3, to: &text)
        }

        private static func appendHex(_ word: UInt64, to text: inout [UInt8]) {
            for shift in stride(from: 60, through: 0, by: -4) { text.append(hexDigits[Int(truncatingIfNeeded: word >> UInt64(shift)) & 0xF]) }
        }

        private static let hexDigits = Array("0123456789abcdef".utf8)

        static func == (lhs: Identifier, rhs: Identifier) -> Bool {
            lhs.key == rhs.key && lhs.digest == rhs.digest
        }

        static func < (lhs: Identifier, rhs: Identifier) -> Bool {
            (lhs.key, lhs.digest.0, lhs.digest.1, lhs.digest.2, lhs.digest.3) < (rhs.key, rhs.digest.0, rhs.digest.1, rhs.digest.2, rhs.digest.3)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(key)
            hasher.combine(digest.0)
            hasher.combine(digest.1)
            hasher.combine(digest.2)
            hasher.combine(digest.3)
        }
    }

    /// One user's identifiers.
    typealias Member = [Identifier]

    /// Members by number; an empty slot is free, and its number waits in `freeNumbers` for the next member.
    private var members: [Member] = []
    private var freeNumbers: [Int32] = []
    private var index = IdentifierIndex()

    var count: Int { members.count - freeNumbers.count }

    /// Adds `user`, merging every member that shares an identifier with it; false when that changes nothing
    /// (every identifier already belongs to one and the same member), as for an add sent twice.
    ///
    /// The largest member the user touches takes in the others and the user's new identifiers in place, and
    /// only what moves is indexed again: a member that keeps growing (many users sharing one device id) costs
    /// each add the identifiers it moves, not the member's whole size.
    @discardableResult
    mutating func add(_ user: Member) -> Bool {
        guard let firstNumber = user.first.map({ index[$0] }) else { return false }
        var target: Int32?
        var unchanged = firstNumber != nil
        for identifier in user {
            let number = index[identifier]
            if number != firstNumber { unchanged = false }
            if let number, target.map({ members[Int(number)].count > members[Int($0)].count }) ?? true { target = number }
        }
        if unchanged { return false }
        let number = target ?? newNumber()
        for identifier in user {
            guard let current = index[identifier] else {
                members[Int(number)].append(identifier)
                index.set(identifier, to: number)
                continue
            }
            guard current != number else { continue }
            for moved in take(current) {
                members[Int(number)].append(moved)
                index.set(moved, to: number)
            }
        }
        return true
    }

    /// A free member number, its slot empty.
    private mutating func newNumber() -> Int32 {
        if let free = freeNumbers.popLast() { return free }
        members.append([])
        return Int32(members.count - 1)
    }

    /// Empties member `number`'s slot and returns what it held; its identifiers stay in the index.
    private mutating func take(_ number: Int32) -> Member {
        let member = members[Int(number)]
        members[Int(number)] = []
        freeNumbers.append(number)
        return member
    }

    /// Removes every member that holds one of `user`'s identifiers; false when there was none.
    @discardableResult
    mutating func remove(_ user: Member) -> Bool {
        var removed = false
        for identifier in user {
            guard let number = index[identifier] else { continue }
            for gone in take(number) { index.remove(gone) }
            removed = true
        }
        return removed
    }

    /// The XOR of the SHA-256 of every member's canonical text (`key=d1,d2;key2=d3`, keys and digests
    /// sorted), in hex: equal sets give equal fingerprints whatever the order, so a checker can poll an
    /// audience of millions without listing it. Each text is written into one reused buffer (no string,
    /// dictionary or array per member): a checker polls this while the uploaders write to the same process.
    var fingerprint: String {
        var folded = [UInt8](repeating: 0, count: 32)
        var text: [UInt8] = []
        var ordered: Member = []
        for member in members where !member.isEmpty {
            ordered.removeAll(keepingCapacity: true)
            ordered.append(contentsOf: member)
            // Keys by name, then digests: a lowercase hex text sorts as its digest's words do.
            ordered.sort { lhs, rhs in
                (Self.keyRanks[Int(lhs.key)], lhs.digest.0, lhs.digest.1, lhs.digest.2, lhs.digest.3)
                    < (Self.keyRanks[Int(rhs.key)], rhs.digest.0, rhs.digest.1, rhs.digest.2, rhs.digest.3)
            }
            text.removeAll(keepingCapacity: true)
            for (position, identifier) in ordered.enumerated() {
                if position == 0 || ordered[position - 1].key != identifier.key {
                    if position > 0 { text.append(UInt8(ascii: ";")) }
                    text.append(contentsOf: Self.keyBytes[Int(identifier.key)])
                    text.append(UInt8(ascii: "="))
                } else {
                    text.append(UInt8(ascii: ","))
                }
                identifier.appendHex(to: &text)
            }
            let digest = SHA256Digest.hash(text.span)
            for (position, byte) in digest.bytes.enumerated() { folded[position] ^= byte }
        }
        return SHA256Digest(bytes: folded)!.hex
    }

    /// Each key's position among the keys sorted by name (`EMAIL_SHA256` before `email`), by key number.
    private static let keyRanks: [Int] = keys.map { key in keys.sorted().firstIndex(of: key)! }

    /// Every member as key → sorted hex digests, members ordered by their first key and digest, for stable output.
    var sorted: [[String: [String]]] {
        members.filter { !$0.isEmpty }
            .map { member in
                Dictionary(grouping: member, by: { Self.keys[Int($0.key)] }).mapValues { $0.map(\.hex).sorted() }
            }
            .sorted { lhs, rhs in Self.sortKey(lhs) < Self.sortKey(rhs) }
    }

    private static func sortKey(_ member: [String: [String]]) -> String {
        member.keys.sorted().map { "\($0)=\(member[$0]!.joined(separator: ","))" }.joined(separator: ";")
    }
}
