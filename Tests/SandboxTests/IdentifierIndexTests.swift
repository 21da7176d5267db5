import TestSupport
import Testing

@testable import Sandbox

/// The sandbox's identifier table against a `Dictionary`, through the adds and removes that move its runs.
@Suite("Sandbox identifier index")
struct IdentifierIndexTests {
    @Test("after every add, replace and remove, each identifier maps to what a Dictionary says, through long runs and their shifts back")
    func matchesDictionary() throws {
        for seed: UInt64 in [1, 2, 3, 0x9E37_79B9_7F4A_7C15] {
            var generator = Fuzzer.Generator(seed: seed)
            // 300 identifiers over a table that starts at 16 slots: long runs, wrap-arounds and shifts back.
            let universe: [MemberSet.Identifier] = (0..<300).map { _ in
                // Digests alike in three words, as crafted ones may be, and random ones.
                let random = Bool.random(using: &generator)
                return MemberSet.Identifier(
                    key: UInt8.random(in: 0..<9, using: &generator),
                    digest: (random ? generator.next() : 7, random ? generator.next() : 7, random ? generator.next() : 7, generator.next() % 64))
            }
            var index = IdentifierIndex(seed: seed)
            var expected: [MemberSet.Identifier: Int32] = [:]
            var removals = 0
            for step in 0..<20_000 {
                let identifier = universe.randomElement(using: &generator)!
                if Int.random(in: 0..<3, using: &generator) == 0 {
                    index.remove(identifier)
                    if expected.removeValue(forKey: identifier) != nil { removals += 1 }
                } else {
                    let member = Int32(step)
                    index.set(identifier, to: member)
                    expected[identifier] = member
                }
                if step % 97 == 0 {
                    for identifier in universe {
                        #expect(index[identifier] == expected[identifier], "seed \(seed), step \(step)")
                    }
                }
                #expect(index.count == expected.count)
            }
            #expect(removals > 1_000, "the run removed present identifiers, not only absent ones")
            for identifier in universe {
                #expect(index[identifier] == expected[identifier])
            }
        }
    }

    @Test("an index that grows from 16 slots to a million identifiers finds every one, and forgets every one removed")
    func grows() throws {
        var generator = Fuzzer.Generator(seed: 11)
        let identifiers = (0..<1_000_000).map { _ in
            MemberSet.Identifier(key: 0, digest: (generator.next(), generator.next(), generator.next(), generator.next()))
        }
        var index = IdentifierIndex(seed: 12)
        for (number, identifier) in identifiers.enumerated() { index.set(identifier, to: Int32(number)) }
        #expect(index.count == identifiers.count)
        var found = 0
        for (number, identifier) in identifiers.enumerated() where index[identifier] == Int32(number) { found += 1 }
        #expect(found == identifiers.count)
        for identifier in identifiers[..<500_000] { index.remove(identifier) }
        #expect(index.count == 500_000)
        var gone = 0
        for identifier in identifiers[..<500_000] where index[identifier] == nil { gone += 1 }
        #expect(gone == 500_000)
        var kept = 0
        for (number, identifier) in identifiers.enumerated().dropFirst(500_000) where index[identifier] == Int32(number) { kept += 1 }
        #expect(kept == 500_000)
    }

    @Test("digests that differ only in ten bits of one word, anywhere in any word, spread over the slots; so do identifiers that differ only in their key")
    func spread() throws {
        var generator = Fuzzer.Generator(seed: 5)
        let base = (generator.next(), generator.next(), generator.next(), generator.next())
        for word in 0..<4 {
            for offset: UInt64 in [0, 27, 54] {
                var index = IdentifierIndex(seed: 99)
                let identifiers = (0..<1_024).map { value -> MemberSet.Identifier in
                    var digest = base
                    let bits = UInt64(value) << offset
                    switch word {
                    case 0: digest.0 ^= bits
                    case 1: digest.1 ^= bits
                    case 2: digest.2 ^= bits
                    default: digest.3 ^= bits
                    }
                    return MemberSet.Identifier(key: 0, digest: digest)
                }
                for (number, identifier) in identifiers.enumerated() { index.set(identifier, to: Int32(number)) }
                // 1,024 identifiers in 2,048 slots: about 800 distinct homes if they spread, one if the varied bits are lost.
                let homes = Set(identifiers.map(index.home))
                #expect(homes.count > 650, "word \(word), bits from \(offset): \(homes.count) distinct homes")
            }
        }
        var index = IdentifierIndex(seed: 99)
        let digests = (0..<1_024).map { _ in (generator.next(), generator.next(), generator.next(), generator.next()) }
        for (number, digest) in digests.enumerated() { index.set(MemberSet.Identifier(key: 0, digest: digest), to: Int32(number)) }
        // In 2,048 slots two unrelated identifiers share a home once in 2,048 times.
        let sameHome = digests.filter { index.home(MemberSet.Identifier(key: 0, digest: $0)) == index.home(MemberSet.Identifier(key: 5, digest: $0)) }
        #expect(sameHome.count < 10, "\(sameHome.count) of 1,024 digests have one home under two keys")
    }
}
