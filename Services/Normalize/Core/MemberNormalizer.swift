import Config
import Identity
import Wire

/// Turns one raw member change into the hashed members of each connection that syncs its audience.
///
/// Pure: no I/O. For each connection it forwards only the identifier kinds the connection forwards,
/// normalized by the connection's destination rules. A user without consent is refused and, in every
/// audience of that connection, withdrawn; a user without a usable identifier is refused.
struct MemberNormalizer: Sendable {
    let config: CohortSyncConfig

    /// One derived record and whether it belongs to the input's own audience (same partition) or another (fan-out).
    struct Derived: Sendable, Equatable {
        let member: HashedMember
        let sameAudience: Bool
    }

    /// The derived records, the per-identifier refusals and the record-level outcome.
    struct Result: Sendable, Equatable {
        var derived: [Derived] = []
        var identifierRefusals: [IdentityRefusal] = []
        /// nil when at least one connection got the member; otherwise `no-consent` or `no-identifier`.
        var refusal: String?
    }

    func normalize(_ change: MemberChange) -> Result {
        var result = Result()
        var delivered = false
        var refusals: Set<String> = []
        let connectionIDs = config.syncs(ofAudience: change.audienceID).map(\.connectionID)
        for connectionID in connectionIDs {
            guard let connection = config.connection(connectionID) else { continue }
            if change.consent == .denied {
                refusals.insert("no-consent")
                for audience in config.audiences(ofConnection: connectionID) {
                    let withdrawal = HashedMember(
                        connectionID: connectionID, audienceID: audience, userKey: change.userKey, action: .consentWithdrawn,
                        eventTimeMilliseconds: change.eventTimeMilliseconds)
                    result.derived.append(Derived(member: withdrawal, sameAudience: audience == change.audienceID))
                }
                continue
            }
            let rules = connection.identityRules
            var hashed: [HashedIdentifier] = []
            for (kind, value) in change.identifiers.present where connection.forward.contains(kind) {
                switch rules.digest(kind, value) {
                case .success(let digest)?:
                    let entry = HashedIdentifier(type: kind, sha256: digest.bytes)
                    if !hashed.contains(entry) { hashed.append(entry) }
                case .failure(let refusal)?:
                    result.identifierRefusals.append(refusal)
                case nil:
                    break
                }
            }
            // An exit removes what was added, which the batcher knows by user key: it needs no identifier.
            guard !hashed.isEmpty || change.action == .exit else {
                refusals.insert("no-identifier")
                continue
            }
            delivered = true
            result.derived.append(Derived(
                member: HashedMember(
                    connectionID: connectionID, audienceID: change.audienceID, userKey: change.userKey, action: change.action,
                    snapshotID: change.snapshotID, identifiers: hashed, eventTimeMilliseconds: change.eventTimeMilliseconds),
                sameAudience: true))
        }
        if !delivered {
            result.refusal = refusals.contains("no-consent") ? "no-consent" : refusals.contains("no-identifier") ? "no-identifier" : "no-sync"
        }
        return result
    }
}
