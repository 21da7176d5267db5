/// Which member holds each (key, digest): an open-addressing table with linear probing.
///
/// A `Dictionary` hashed every identifier with SipHash, seeding a `Hasher` per lookup, and that was a fifth
/// of the sandbox's time under an uploader at full speed. Digests are SHA-256 outputs, so a multiply-and-fold
/// of their four words spreads them as well; the per-index random seed keeps crafted digests (a client may
/// send any 64 hex digits) from piling onto one run of slots across processes. Removal shifts the run back
/// instead of leaving tombstones, so a table that sees adds and removes for ever never degrades.
struct IdentifierIndex: Sendable {
    private static let empty: Int32 = -1

    private var keys: [MemberSet.Identifier]
    private var values: [Int32]
    private var mask: Int
    private let seed: UInt64
    private(set) var count = 0

    /// - Parameter seed: mixed into every slot choice; random unless a test needs a table laid out the same way each run.
    init(capacity: Int = 16, seed: UInt64 = .random(in: 0...UInt64.max)) {
        var slots = 16
        while slots < capacity * 2 { slots <<= 1 }
        keys = Array(repeating: MemberSet.Identifier(key: 0, digest: (0, 0, 0, 0)), count: slots)
        values = Array(repeating: Self.empty, count: slots)
        mask = slots - 1
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

    private func home(_ identifier: MemberSet.Identifier) -> Int {
        let digest = identifier.digest
        var hash = (digest.0 ^ seed) &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ digest.1 ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ digest.2 ^ (hash >> 32)) &* 0x94D0_49BB_1331_11EB
        hash = (hash ^ digest.3 ^ UInt64(identifier.key) ^ (hash >> 29)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: hash >> 32 ^ hash) & mask
    }

    private mutating func grow() {
        let old = (keys, values)
        let slots = values.count * 2
        keys = Array(repeating: MemberSet.Identifier(key: 0, digest: (0, 0, 0, 0)), count: slots)
        values = Array(repeating: Self.empty, count: slots)
        mask = slots - 1
        count = 0
        for (key, value) in zip(old.0, old.1) where value != Self.empty { set(key, to: value) }
    }
}
