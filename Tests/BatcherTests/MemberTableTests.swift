@testable import BatcherCore
import Testing

/// The member table's key index: every key found at its own slot through index growth, nothing else found.
@Suite("Batcher member table")
struct MemberTableTests {
    @Test("12,000 keys of every length, prefixes of one another and non-ASCII among them, each found at its slot; near misses are not")
    func keysFoundExactly() throws {
        var table = MemberTable()
        var keys: [String] = []
        for number in 0..<10_000 {
            // Lengths from 1 to 70 bytes; every fifth key is a prefix of the next one, every seventh is not ASCII.
            var key = String(repeating: "k", count: number % 61) + "\(number)"
            if number % 7 == 0 { key += "é\u{1F600}" }
            keys.append(key)
            if number % 5 == 0 { keys.append(key + "x") }
        }
        var slots: [Int32] = []
        for key in keys { slots.append(table.findOrInsert(key)) }
        #expect(Set(slots).count == keys.count, "each key its own slot")
        #expect(slots == (0..<Int32(keys.count)).map { $0 }, "slots numbered in insertion order")
        for (key, slot) in zip(keys, slots) {
            #expect(table.find(key) == slot, "\(key)")
            #expect(table.findOrInsert(key) == slot, "\(key) inserted again")
        }
        #expect(table.slots.count == keys.count, "inserting a present key adds nothing")
        for key in keys.prefix(2_000) {
            #expect(table.find(key + "?") == nil, "\(key)? was never inserted")
            #expect(table.find("?" + key) == nil, "?\(key) was never inserted")
        }
        #expect(table.find("") == nil)
    }

    private func hash(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { MemberTable.hash($0.span) }
    }

    @Test("a key is not found at the slot of a longer key it is a prefix of, when both start their probe at the same bucket")
    func prefixInSameBucket() throws {
        // A fresh table indexes 16 buckets: find a key and its extension whose hashes share one.
        let pair = try #require((0..<10_000).lazy.map { "p\($0)" }.first { hash($0) & 15 == hash($0 + "x") & 15 })
        var table = MemberTable()
        #expect(table.bucketCount == 16, "the premise: a fresh table's index has 16 buckets")
        let longer = table.findOrInsert(pair + "x")
        #expect(table.find(pair) == nil, "\(pair) was never inserted")
        let shorter = table.findOrInsert(pair)
        #expect(shorter != longer)
        #expect(table.find(pair) == shorter)
        #expect(table.find(pair + "x") == longer)
    }

    @Test("a key longer than the table keeps is found by its kept prefix, as text or as bytes alike")
    func longKeysByTextAndBytes() throws {
        var table = MemberTable()
        let long = String(repeating: "k", count: MemberTable.maximumKeyLength) + "tail"
        let slot = table.findOrInsert(long)
        var bytes = Array(long.utf8)
        #expect(table.find(bytes.span) == slot)
        bytes[bytes.count - 1] = UInt8(ascii: "x")
        #expect(table.findOrInsert(bytes.span) == slot, "only the first maximumKeyLength bytes count, from bytes too")
        #expect(table.find(String(repeating: "k", count: MemberTable.maximumKeyLength)) == slot)
        #expect(table.slots.count == 1)
        #expect(table.userKey(slot).utf8.count == MemberTable.maximumKeyLength)
    }
}
