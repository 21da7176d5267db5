/// Which member holds each (key, digest): an open-addressing table with linear probing.
///
/// A `Dictionary` hashed every identifier with SipHash, seeding a `Hasher` per lookup, and that was a fifth
/// of the sandbox's time under an uploader at full speed. Here each of the digest's four words goes through a
/// full 64-bit finalizer (every input bit reaches every output bit), and the slot is taken from the top bits,
/// so digests that differ anywhere spread, as SHA-256 outputs and hand-made test digests alike do. A random seed
/// per index varies the layout from run to run; it is no defense against a client that studies this function,
/// which a sandbox on a test network does not need. Removal shifts the run back instead of leaving tombstones,
/// so a table that sees adds and removes for ever never degrades.
struct IdentifierIndex: Sendable {
    private static let empty: Int32 = -1

    private var keys: [MemberSet.Identifier]
    private var values: [Int32]
    private var mask: Int
    /// 64 minus the number of slot bits: a hash's top bits choose its home slot.
    private var shift: UInt64
    private let seed: UInt64
    private(set) var count = 0

    /// - Parameter seed: mixed into every slot choice; random unless a test needs a table laid out the same way each run.
    init(seed: UInt64 = .random(in: 0...UInt64.max)) {
        keys = Array(repeating: MemberSet.Identifier(key: 0, digest: (0, 0, 0, 0)), count: 16)
        values = Array(repeating: Self.empty, count: 16)
        mask = 15
        shift = 60
        self.seed = seed
    }

    /// The member that holds `identifier`, or nil.
    subscript(identifier: MemberSet.Identifier) -> Int32? {
        var slot = home(identifier)
        while true {
            let value = values[slot]
            if value == Self.empty { return nil }
            if keys[slot] == identifier { return value }
            slot = (slot + 1) & mask
        }
    }

    /// Records that `member` holds `identifier`, replacing any member recorded before.
    mutating func set(_ identifier: MemberSet.Identifier, to member: Int32) {
        precondition(member >= 0, "member numbers are not negative: -1 marks an empty slot")
        if (count + 1) * 4 > values.count * 3 { grow() }
        var slot = home(identifier)
        while values[slot] != Self.empty {
            if keys[slot] == identifier {
                values[slot] = member
                return
            }
            slot = (slot + 1) & mask
        }
        keys[slot] = identifier
        values[slot] = member
        count += 1
    }

    /// Forgets `identifier`; nothing happens when it is absent.
    mutating func remove(_ identifier: MemberSet.Identifier) {
        var slot = home(identifier)
        while true {
            if values[slot] == Self.empty { return }
            if keys[slot] == identifier { break }
            slot = (slot + 1) & mask
        }
        // Backward shift: move each later entry of the run into the hole unless its home lies between the
        // hole and where it sits (cyclically), where moving it would put it before its home.
        var hole = slot
        var next = slot
        while true {
            next = (next + 1) & mask
            if values[next] == Self.empty { break }
            let wanted = home(keys[next])
            let staysPut = hole <= next ? (hole < wanted && wanted <= next) : (hole < wanted || wanted <= next)
            if staysPut { continue }
            keys[hole] = keys[next]
            values[hole] = values[next]
            hole = next
        }
        values[hole] = Self.empty
        count -= 1
    }

    /// The slot a probe for `identifier` starts at.
    func home(_ identifier: MemberSet.Identifier) -> Int {
        let digest = identifier.digest
        var hash = Self.finalize(seed ^ digest.0)
        hash = Self.finalize(hash ^ digest.1)
        hash = Self.finalize(hash ^ digest.2)
        hash = Self.finalize(hash ^ digest.3 ^ UInt64(identifier.key) << 56)
        return Int(truncatingIfNeeded: hash >> shift)
    }

    /// MurmurHash3's 64-bit finalizer: each input bit flips each output bit with probability about one half.
    private static func finalize(_ word: UInt64) -> UInt64 {
        var word = word
        word = (word ^ word >> 33) &* 0xFF51_AFD7_ED55_8CCD
        word = (word ^ word >> 33) &* 0xC4CE_B9FE_1A85_EC53
        return word ^ word >> 33
    }

    private mutating func grow() {
        let old = (keys, values)
        let slots = values.count * 2
        keys = Array(repeating: MemberSet.Identifier(key: 0, digest: (0, 0, 0, 0)), count: slots)
        values = Array(repeating: Self.empty, count: slots)
        mask = slots - 1
        shift -= 1
        count = 0
        for (key, value) in zip(old.0, old.1) where value != Self.empty { set(key, to: value) }
    }
}
