import Hashing
import TestSupport
import Testing

@testable import Sandbox

/// The fingerprint the demo's checker polls instead of listing millions of members.
@Suite("Sandbox member fingerprints")
struct MemberSetTests {
    static func identifier(_ key: String, _ text: String) throws -> MemberSet.Identifier {
        let number = try #require(MemberSet.keyNumbers[key])
        return try #require(MemberSet.Identifier(key: number, hex: Array(SHA256Digest.hash(text).hex.utf8)[...]))
    }

    @Test("the XOR of each member's canonical text (keys and digests sorted), whatever the order of adds")
    func fingerprint() throws {
        let ada = [try Self.identifier("phone_number", "+15551234567"), try Self.identifier("email", "ada@example.com")]
        let grace = [try Self.identifier("device_id", "b"), try Self.identifier("device_id", "a")]
        var forward = MemberSet()
        forward.add(ada)
        forward.add(grace)
        var backward = MemberSet()
        backward.add(grace)
        backward.add(ada.reversed())
        let canonicalAda = "email=\(SHA256Digest.hash("ada@example.com").hex);phone_number=\(SHA256Digest.hash("+15551234567").hex)"
        let sortedDevices = [SHA256Digest.hash("a").hex, SHA256Digest.hash("b").hex].sorted()
        let canonicalGrace = "device_id=\(sortedDevices.joined(separator: ","))"
        let expected = zip(SHA256Digest.hash(canonicalAda).bytes, SHA256Digest.hash(canonicalGrace).bytes).map { $0 ^ $1 }
        #expect(forward.fingerprint == SHA256Digest(bytes: expected)?.hex)
        #expect(backward.fingerprint == forward.fingerprint)
        forward.remove([ada[0]])
        #expect(forward.fingerprint == SHA256Digest.hash(canonicalGrace).hex)
        #expect(MemberSet().fingerprint == String(repeating: "0", count: 64))
    }

    @Test("the fingerprint equals the XOR of each member's canonical text written the plain way, for members of every key and size")
    func fingerprintAgainstPlainText() throws {
        var generator = Fuzzer.Generator(seed: 7)
        var set = MemberSet()
        var members: [[MemberSet.Identifier]] = []
        for user in 0..<300 {
            // One to six identifiers over every key, X's lowercase and TikTok's uppercase names mixed in one member.
            let member = try (0..<Int.random(in: 1...6, using: &generator)).map { index in
                try Self.identifier(MemberSet.keys.randomElement(using: &generator)!, "\(user)/\(index)")
            }
            if set.add(member) { members.append(member) }
        }
        #expect(set.count == members.count && members.count == 300, "distinct users stay distinct members")
        /// The canonical text as the demo's checker describes it: keys sorted by name, each with its sorted hex digests.
        func plain(_ member: [MemberSet.Identifier]) -> String {
            Dictionary(grouping: member, by: { MemberSet.keys[Int($0.key)] })
                .sorted { $0.key < $1.key }
                .map { key, identifiers in "\(key)=\(identifiers.map(\.hex).sorted().joined(separator: ","))" }
                .joined(separator: ";")
        }
        var expected = [UInt8](repeating: 0, count: 32)
        for member in members {
            for (position, byte) in SHA256Digest.hash(plain(member)).bytes.enumerated() { expected[position] ^= byte }
        }
        #expect(set.fingerprint == SHA256Digest(bytes: expected)?.hex)
    }

    @Test("a digest is read from exactly 64 lowercase hex digits, every digit's value in place; anything else is refused")
    func hexDigests() throws {
        for text in ["ada@example.com", "", "0", "\u{1F600}"] {
            let hex = SHA256Digest.hash(text).hex
            let identifier = try #require(MemberSet.Identifier(key: 0, hex: Array(hex.utf8)[...]))
            #expect(identifier.hex == hex, "\(text.debugDescription)")
        }
        let every = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        #expect(MemberSet.Identifier(key: 0, hex: Array(every.utf8)[...])?.hex == every)
        // Inside a longer buffer, as a request body's slice is.
        let framed = Array("[\"\(every)\"]".utf8)
        #expect(MemberSet.Identifier(key: 0, hex: framed[2..<66])?.hex == every)
        let head = String(every.dropLast())
        let tail = String(every.dropFirst())
        let bad: [String] = [every.uppercased(), head, every + "0", head + "g", head + " ", "/" + tail, ":" + tail, "`" + tail, "G" + tail]
        for bad in bad {
            #expect(MemberSet.Identifier(key: 0, hex: Array(bad.utf8)[...]) == nil, "\(bad)")
        }
    }

    @Test("add and remove say whether they changed the set: a repeated add or a removal of an absent user did not")
    func effects() throws {
        let email = try Self.identifier("email", "ada@example.com")
        let phone = try Self.identifier("phone_number", "+15551234567")
        let other = try Self.identifier("email", "grace@example.com")
        var members = MemberSet()
        let added = members.add([email, phone])
        #expect(added)
        let addedAgain = members.add([phone, email])
        #expect(!addedAgain, "the same user again")
        let addedPart = members.add([email])
        #expect(!addedPart, "a part of a member already there")
        let addedNew = members.add([email, other])
        #expect(addedNew, "a new identifier joins the member")
        #expect(members.count == 1)
        let removedAbsent = members.remove([try Self.identifier("device_id", "nobody")])
        #expect(!removedAbsent)
        let removed = members.remove([other])
        #expect(removed)
        let removedAgain = members.remove([email])
        #expect(!removedAgain, "removing a user removes all of its identifiers at once")
        #expect(members.count == 0)
    }

    @Test("adds that merge members, removes that take several, and numbers freed and used again agree with a model of sets at every step")
    func againstModel() throws {
        var generator = Fuzzer.Generator(seed: 21)
        // 40 identifiers over three keys: users of one to three of them keep merging and splitting members.
        let universe = try (0..<40).map { try Self.identifier(["email", "phone_number", "EMAIL_SHA256"][$0 % 3], "id-\($0)") }
        var set = MemberSet()
        var model: [Set<MemberSet.Identifier>] = []
        func canonical(_ member: [String: [String]]) -> String {
            member.keys.sorted().map { "\($0)=\(member[$0]!.joined(separator: ","))" }.joined(separator: ";")
        }
        func canonical(_ member: Set<MemberSet.Identifier>) -> String {
            canonical(Dictionary(grouping: member, by: { MemberSet.keys[Int($0.key)] }).mapValues { $0.map(\.hex).sorted() })
        }
        var merges = 0
        var multipleRemovals = 0
        for step in 0..<4_000 {
            let user = (0..<Int.random(in: 1...3, using: &generator)).map { _ in universe.randomElement(using: &generator)! }
            let touching = model.indices.filter { !model[$0].isDisjoint(with: user) }
            if Int.random(in: 0..<4, using: &generator) == 0 {
                let removed = set.remove(user)
                #expect(removed == !touching.isEmpty, "step \(step)")
                if touching.count > 1 { multipleRemovals += 1 }
                model = model.enumerated().filter { !touching.contains($0.offset) }.map(\.element)
            } else {
                let unchanged = touching.count == 1 && model[touching[0]].isSuperset(of: user)
                let added = set.add(user)
                #expect(added == !unchanged, "step \(step)")
                if !unchanged {
                    if touching.count > 1 { merges += 1 }
                    let merged = touching.reduce(Set(user)) { $0.union(model[$1]) }
                    model = model.enumerated().filter { !touching.contains($0.offset) }.map(\.element) + [merged]
                }
            }
            #expect(set.count == model.count, "step \(step)")
            if step % 50 == 0 {
                #expect(set.sorted.map(canonical).sorted() == model.map(canonical).sorted(), "step \(step)")
            }
        }
        #expect(merges > 100 && multipleRemovals > 20, "merges \(merges), removals of several members \(multipleRemovals)")
        #expect(set.sorted.map(canonical).sorted() == model.map(canonical).sorted())
    }
}
