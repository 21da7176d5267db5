import Wire

/// Hashed identifiers in canonical order, so two sets compare equal exactly when they hold the same digests.
enum IdentifierSet {
    /// `identifiers` sorted by type then digest, without repeats, keeping only 32-byte digests of the kinds in
    /// `forwarded`; `dropped` counts what was left out.
    static func canonical(_ identifiers: [HashedIdentifier], forwarded: Set<IdentifierType>) -> (identifiers: [HashedIdentifier], dropped: Int) {
        var kept = identifiers.filter { $0.sha256.count == MemberTable.digestLength && forwarded.contains($0.type) }
        let dropped = identifiers.count - kept.count
        guard kept.count > 1 else { return (kept, dropped) }
        kept.sort(by: precedes)
        var unique: [HashedIdentifier] = [kept[0]]
        for identifier in kept.dropFirst() where identifier != unique[unique.count - 1] { unique.append(identifier) }
        return (Array(unique.prefix(Int(UInt8.max))), dropped + kept.count - min(unique.count, Int(UInt8.max)))
    }

    static func precedes(_ a: HashedIdentifier, _ b: HashedIdentifier) -> Bool {
        if a.type != b.type { return a.type.rawValue < b.type.rawValue }
        return a.sha256.lexicographicallyPrecedes(b.sha256)
    }

    /// The identifiers of each destination audience they go to: all together, or one audience per type.
    static func byScope(_ identifiers: [HashedIdentifier], perIdentifier: Bool) -> [IdentifierType: [HashedIdentifier]] {
        guard !identifiers.isEmpty else { return [:] }
        guard perIdentifier else { return [.unspecified: identifiers] }
        return Dictionary(grouping: identifiers, by: \.type)
    }
}
