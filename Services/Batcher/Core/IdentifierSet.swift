import Wire

/// Hashed identifiers in canonical order, so two sets compare equal exactly when they hold the same digests.
enum IdentifierSet {
    /// Every kind: what a restore keeps, whatever the connection forwards now (`dropUnforwarded` sorts that out).
    static let allKinds = Set(IdentifierType.specified)

    /// `identifiers` sorted by type then digest, without repeats, keeping only 32-byte digests of the kinds in
    /// `forwarded` (at most 255, what a member's slot counts).
    static func canonical(_ identifiers: [HashedIdentifier], forwarded: Set<IdentifierType>) -> [HashedIdentifier] {
        var kept = identifiers.filter { $0.sha256.count == MemberTable.digestLength && forwarded.contains($0.type) }
        guard kept.count > 1 else { return kept }
        kept.sort(by: precedes)
        var unique: [HashedIdentifier] = [kept[0]]
        for identifier in kept.dropFirst() where identifier != unique[unique.count - 1] { unique.append(identifier) }
        return Array(unique.prefix(Int(UInt8.max)))
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
