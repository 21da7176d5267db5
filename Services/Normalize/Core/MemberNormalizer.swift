import Config
import Identity
import Wire

/// Turns one raw member change into the hashed members of each connection that syncs its audience.
///
/// Pure: no I/O. For each connection it forwards only the identifier kinds the connection forwards,
/// normalized by the connection's destination rules. A user without consent is refused and, in every
/// audience of that connection, withdrawn; a user without a usable identifier is refused.
struct MemberNormalizer: Sendable {
    /// What normalizing for one connection needs, worked out once from the configuration rather than per member.
    struct ConnectionPlan: Sendable {
        let connectionID: String
        let rules: IdentityRules
        /// The forwarded identifier types, one bit per raw value.
        let forward: UInt32
        /// Every audience the connection syncs, for the consent fan-out.
        let audiences: [String]

        func forwards(_ type: IdentifierType) -> Bool { forward & (1 << UInt32(type.rawValue)) != 0 }
    }

    /// The connections syncing each audience, in configuration order.
    let plans: [String: [ConnectionPlan]]

    init(config: CohortSyncConfig) {
        var plans: [String: [ConnectionPlan]] = [:]
        for sync in config.syncs {
            guard let connection = config.connection(sync.connectionID) else { continue }
            let plan = ConnectionPlan(
                connectionID: connection.id, rules: connection.identityRules,
                forward: connection.forward.reduce(0) { $0 | 1 << UInt32($1.rawValue) },
                audiences: config.audiences(ofConnection: connection.id))
            plans[sync.audienceID, default: []].append(plan)
        }
        self.plans = plans
    }

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
        let present = change.identifiers.present
        for plan in plans[change.audienceID] ?? [] {
            let connectionID = plan.connectionID
            if change.consent == .denied {
                refusals.insert("no-consent")
                for audience in plan.audiences {
                    let withdrawal = HashedMember(
                        connectionID: connectionID, audienceID: audience, userKey: change.userKey, action: .consentWithdrawn,
                        eventTimeMilliseconds: change.eventTimeMilliseconds)
                    result.derived.append(Derived(member: withdrawal, sameAudience: audience == change.audienceID))
                }
                continue
            }
            var hashed: [HashedIdentifier] = []
            for (kind, value) in present where plan.forwards(kind) {
                switch plan.rules.digest(kind, value) {
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
            // A member with nothing usable is refused, yet still forwarded with no identifiers: those are its
            // identifiers now, so the batcher withdraws whatever it had sent for it.
            if hashed.isEmpty && change.action != .exit {
                refusals.insert("no-identifier")
            } else {
                delivered = true
            }
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
