import Wire

/// Hashed identifiers in canonical order, so two sets compare equal exactly when they hold the same digests.
enum IdentifierSet {
    /// Identifier kinds as one bit per raw value: what `canonical` checks per identifier without hashing a `Set`.
    struct Kinds: Sendable {
        let bits: UInt32

        init(_ kinds: Set<IdentifierType>) {
            bits = kinds.reduce(0) { $0 | 1 << UInt32($1.rawValue) }
        }

        func contains(_ kind: IdentifierType) -> Bool { bits & (1 << UInt32(kind.rawValue)) != 0 }
    }

    /// Every kind: what a restore keeps, whatever the connection forwards now (`dropUnforwarded` sorts that out).
    static let allKinds = Kinds(Set(IdentifierType.specified))

    /// `identifiers` sorted by type then digest, without repeats, keeping only 32-byte digests of the kinds in
    /// `forwarded` (at most 255, what a member's slot counts).
    static func canonical(_ identifiers: [HashedIdentifier], forwarded: Kinds) -> [HashedIdentifier] {
        if isCanonical(identifiers, forwarded: forwarded) { return identifiers }
        var kept = identifiers.filter { $0.sha256.count == MemberTable.digestLength && forwarded.contains($0.type) }
        guard kept.count > 1 else { return kept }
        kept.sort(by: precedes)
        var unique: [HashedIdentifier] = [kept[0]]
        for identifier in kept.dropFirst() where identifier != unique[unique.count - 1] { unique.append(identifier) }
        return Array(unique.prefix(Int(UInt8.max)))
    }

    /// Whether `canonical` would return `identifiers` as they are: what normalize writes and the changelog keeps
    /// almost always are, so the common case costs one pass and no copy.
    private static func isCanonical(_ identifiers: [HashedIdentifier], forwarded: Kinds) -> Bool {
        guard identifiers.count <= Int(UInt8.max) else { return false }
        for index in identifiers.indices {
            let identifier = identifiers[index]
            guard identifier.sha256.count == MemberTable.digestLength, forwarded.contains(identifier.type) else { return false }
            if index > 0, !precedes(identifiers[index - 1], identifier) { return false }
        }
        return true
    }

    /// `isCanonical` for identifiers read in place, their digests in `bytes`.
    static func isCanonical(_ identifiers: [MemberStateView.Identifier], in bytes: [UInt8], forwarded: Kinds) -> Bool {
        guard identifiers.count <= Int(UInt8.max) else { return false }
        let all = bytes.span
        for index in identifiers.indices {
            let identifier = identifiers[index]
            guard identifier.digest.count == MemberTable.digestLength, forwarded.contains(identifier.type) else { return false }
            guard index > 0 else { continue }
            let before = identifiers[index - 1]
            if !precedes(before.type, all.extracting(before.digest), identifier.type, all.extracting(identifier.digest)) { return false }
        }
        return true
    }

    /// The canonical order: by type, then by digest byte by byte (a digest before its own extensions).
    static func precedes(_ a: HashedIdentifier, _ b: HashedIdentifier) -> Bool {
        precedes(a.type, a.sha256.span, b.type, b.sha256.span)
    }

    private static func precedes(_ aType: IdentifierType, _ a: Span<UInt8>, _ bType: IdentifierType, _ b: Span<UInt8>) -> Bool {
        if aType != bType { return aType.rawValue < bType.rawValue }
        for index in 0..<min(a.count, b.count) where a[index] != b[index] { return a[index] < b[index] }
        return a.count < b.count
    }

    /// The identifiers of each destination audience they go to: all together, or one audience per type.
    static func byScope(_ identifiers: [HashedIdentifier], perIdentifier: Bool) -> [IdentifierType: [HashedIdentifier]] {
        guard !identifiers.isEmpty else { return [:] }
        guard perIdentifier else { return [.unspecified: identifiers] }
        return Dictionary(grouping: identifiers, by: \.type)
    }
}
