@testable import BatcherCore
import TestSupport
import Testing
import Wire

/// `IdentifierSet.canonical` and its in-place check against a plain reference over random identifier lists (run
/// with the other fuzz suites, apart from the timing-sensitive tests).
@Suite("Batcher restore: canonical identifiers, randomized")
struct IdentifierSetFuzzTests {
    /// `IdentifierSet.canonical` written plainly: filter, sort by type then digest, drop repeats, at most 255.
    static func reference(_ identifiers: [HashedIdentifier], forwarded: Set<IdentifierType>) -> [HashedIdentifier] {
        let kept = identifiers.filter { $0.sha256.count == 32 && forwarded.contains($0.type) }.sorted {
            $0.type.rawValue < $1.type.rawValue || ($0.type == $1.type && $0.sha256.lexicographicallyPrecedes($1.sha256))
        }
        var unique: [HashedIdentifier] = []
        for identifier in kept where unique.last != identifier { unique.append(identifier) }
        return Array(unique.prefix(255))
    }

    @Test("20,000 random identifier lists: canonical as the reference makes it, lists already canonical and views of them recognized as such")
    func canonicalMatchesReference() throws {
        var random = Fuzzer.Generator(seed: 0xCA_90)
        var view = MemberStateView()
        var alreadyCanonical = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...(Int.random(in: 0..<50, using: &random) == 0 ? 300 : 4), using: &random)
            let identifiers = (0..<count).map { _ in
                // Digests alike but for one byte anywhere (the first, the last, between): the order must read them all.
                var digest = [UInt8](repeating: 0x5A, count: Int.random(in: 0..<10, using: &random) == 0 ? 31 : 32)
                digest[[0, digest.count - 1, Int.random(in: 0..<digest.count, using: &random)].randomElement(using: &random)!] = UInt8.random(in: 0...3, using: &random)
                return HashedIdentifier(type: IdentifierType(rawValue: Int32.random(in: 0...7, using: &random))!, sha256: digest)
            }
            // Half of the lists in canonical order already, as normalize and the changelog write them.
            let list = Bool.random(using: &random) ? Self.reference(identifiers, forwarded: Set(IdentifierType.specified)) : identifiers
            let forwarded = Set(IdentifierType.specified.filter { _ in Int.random(in: 0..<4, using: &random) != 0 })
            #expect(IdentifierSet.canonical(list, forwarded: IdentifierSet.Kinds(forwarded)) == Self.reference(list, forwarded: forwarded))
            let isCanonical = Self.reference(list, forwarded: Set(IdentifierType.specified)) == list
            alreadyCanonical += isCanonical ? 1 : 0
            let record = BatcherState.member(MemberState(connectionID: "x-main", audienceID: "aud", userKey: "u", sent: list)).serializedBytes()
            let taken = view.read(record)
            #expect(taken)
            #expect(IdentifierSet.isCanonical(view.sent, in: view.bytes, forwarded: IdentifierSet.allKinds) == isCanonical, "\(list.map(\.type))")
        }
        #expect(alreadyCanonical > 8_000 && alreadyCanonical < 15_000, "both kinds of list occur")
    }
}
