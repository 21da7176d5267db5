import Config
import Hashing
import Identity
import Kafka
import Stage
import Wire

/// Turns one raw member change into the hashed members of each connection that syncs its audience.
///
/// No I/O: it appends records to a batch's outputs. For each connection it forwards only the identifier
/// kinds the connection forwards, normalized by the connection's destination rules. A user without consent
/// is refused and withdrawn from every audience of every connection: consent is the user's, not the
/// audience's or the connection's. A user without a usable identifier is refused yet forwarded with none,
/// so the batcher withdraws what it had sent.
struct MemberNormalizer: Sendable {
    /// What normalizing for one connection needs, worked out once from the configuration rather than per member.
    /// A class: handed around once per member and connection, one reference is cheaper than its fields.
    final class ConnectionPlan: Sendable {
        let connectionID: String
        let rules: IdentityRules
        /// The forwarded identifier types, one bit per raw value.
        let forward: UInt32
        /// Every audience the connection syncs, for the consent fan-out.
        let audiences: [String]

        init(connectionID: String, rules: IdentityRules, forward: UInt32, audiences: [String]) {
            self.connectionID = connectionID
            self.rules = rules
            self.forward = forward
            self.audiences = audiences
        }

        func forwards(_ type: IdentifierType) -> Bool { forward & (1 << UInt32(type.rawValue)) != 0 }
    }

    /// The connections syncing each audience, in configuration order.
    let plans: [String: [ConnectionPlan]]
    /// Every connection that syncs an audience, in configuration order: where consent denied is fanned out,
    /// whichever audience the event names (synced or not). Were it only the connections syncing that audience,
    /// a user who withdrew consent would stay with every other connection, and syncing one more audience could
    /// narrow where a withdrawal reaches.
    let everyConnection: [ConnectionPlan]

    init(config: CohortSyncConfig) {
        var byConnection: [String: ConnectionPlan] = [:]
        var everyConnection: [ConnectionPlan] = []
        for connection in config.connections {
            let audiences = config.audiences(ofConnection: connection.id)
            guard !audiences.isEmpty else { continue }
            let plan = ConnectionPlan(
                connectionID: connection.id, rules: connection.identityRules,
                forward: connection.forward.reduce(0) { $0 | 1 << UInt32($1.rawValue) }, audiences: audiences)
            byConnection[connection.id] = plan
            everyConnection.append(plan)
        }
        var plans: [String: [ConnectionPlan]] = [:]
        for sync in config.syncs {
            guard let plan = byConnection[sync.connectionID] else { continue }
            plans[sync.audienceID, default: []].append(plan)
        }
        self.plans = plans
        self.everyConnection = everyConnection
    }

    /// What one change came to: nil `refusal` when at least one connection got the member (otherwise
    /// `no-consent`, `no-identifier` or `no-sync`), and each identifier refused on the way.
    struct Outcome: Sendable, Equatable {
        var refusal: String?
        var identifierRefusals: [IdentityRefusal] = []
    }

    /// Appends the `hashed` records of `change` to `out`: those of its own audience at `sameSpot` (the
    /// input's partition index), consent withdrawals for other audiences placed by their own key.
    func append(
        _ change: MemberChangeView, headers: OutgoingRecords.HeaderSet, sameSpot: ProducerRecord.Placement, into out: inout OutgoingRecords,
        workspace: inout NormalizeWorkspace
    ) -> Outcome {
        var outcome = Outcome()
        var delivered = false
        var noIdentifier = false
        workspace.identity.startUser()
        let (audienceID, audiencePlans) = workspace.audience(of: change, plans: plans)
        if change.fields.consent == .denied {
            for plan in everyConnection {
                for audience in plan.audiences {
                    let placement = audience == audienceID ? sameSpot : .byKey
                    appendMember(change, plan, audience: audience, withdrawal: true, placement, headers, types: [], digests: [], into: &out)
                }
            }
            outcome.refusal = "no-consent"
            return outcome
        }
        for plan in audiencePlans {
            workspace.startConnection()
            for kind in IdentifierType.kinds where plan.forwards(kind) {
                let value = change.fields.identifiers[kind]
                guard !value.isEmpty else { continue }
                switch plan.rules.digest(kind, change.bytes.span.extracting(value), in: &workspace.identity) {
                case .success(let digest)?:
                    workspace.add(kind, digest)
                case .failure(let refusal)?:
                    outcome.identifierRefusals.append(refusal)
                case nil:
                    break
                }
            }
            // An exit removes what was added, which the batcher knows by user key: it needs no identifier.
            // A member with nothing usable is refused, yet still forwarded with no identifiers: those are its
            // identifiers now, so the batcher withdraws whatever it had sent for it.
            if workspace.types.isEmpty && change.fields.action != .exit {
                noIdentifier = true
            } else {
                delivered = true
            }
            appendMember(
                change, plan, audience: audienceID, withdrawal: false, sameSpot, headers, types: workspace.types, digests: workspace.digests,
                into: &out)
        }
        if !delivered {
            outcome.refusal = noIdentifier ? "no-identifier" : "no-sync"
        }
        return outcome
    }

    /// Appends one hashed member keyed `audience/userKey`, written straight from `change`'s bytes: the change
    /// itself, or (`withdrawal`) the consent withdrawal it fans out, which names the user only (no snapshot;
    /// the caller passes no identifiers).
    private func appendMember(
        _ change: MemberChangeView, _ plan: ConnectionPlan, audience: String, withdrawal: Bool, _ placement: ProducerRecord.Placement,
        _ headers: OutgoingRecords.HeaderSet, types: [IdentifierType], digests: [UInt8], into out: inout OutgoingRecords
    ) {
        let action = withdrawal ? MemberAction.consentWithdrawn : change.fields.action
        let snapshot = withdrawal ? 0..<0 : change.fields.snapshotID
        out.append(topic: TopicNames.hashed, placement: placement, headers: headers) { key in
            key.append(contentsOf: audience.utf8)
            key.append(UInt8(ascii: "/"))
            key.append(span: change.bytes.span.extracting(change.fields.userKey))
        } value: { value in
            HashedRecord.appendMember(
                connectionID: plan.connectionID.utf8.span, audienceID: audience.utf8.span, userKey: change.bytes.span.extracting(change.fields.userKey),
                action: action, snapshotID: change.bytes.span.extracting(snapshot), identifierTypes: types.span, digests: digests.span,
                eventTimeMilliseconds: change.fields.eventTimeMilliseconds, to: &value)
        }
    }
}

/// Working memory normalize reuses from record to record of a batch: identifier buffers and digests, and
/// the last audience id read, so that consecutive members of one audience make no string of it.
public struct NormalizeWorkspace: Sendable {
    var identity = IdentifierWorkspace()
    /// The identifiers of the member being written for one connection: their types, and their digests end to end.
    private(set) var types: [IdentifierType] = []
    private(set) var digests: [UInt8] = []
    private var lastAudienceBytes: [UInt8] = []
    private var lastAudienceID = ""
    private var lastAudiencePlans: [MemberNormalizer.ConnectionPlan] = []

    public init() {}

    /// Starts the identifiers of the next connection's member.
    mutating func startConnection() {
        types.removeAll(keepingCapacity: true)
        digests.removeAll(keepingCapacity: true)
    }

    /// Adds an identifier, unless the member already has the same type and digest.
    mutating func add(_ type: IdentifierType, _ digest: SHA256Digest) {
        digest.withBytes { bytes in
            for index in types.indices where types[index] == type && digests.span.extracting((index * 32)..<(index * 32 + 32)).elementsEqual(bytes) {
                return
            }
            types.append(type)
            digests.append(span: bytes)
        }
    }

    /// The audience id of `change`, as text, and the connections syncing it (from `plans`): made and looked up
    /// only when it differs from the last member's, since consecutive members mostly share one.
    mutating func audience(
        of change: MemberChangeView, plans: [String: [MemberNormalizer.ConnectionPlan]]
    ) -> (id: String, plans: [MemberNormalizer.ConnectionPlan]) {
        let bytes = change.bytes.span.extracting(change.fields.audienceID)
        if !bytes.elementsEqual(lastAudienceBytes.span) {
            lastAudienceBytes.removeAll(keepingCapacity: true)
            lastAudienceBytes.append(span: bytes)
            lastAudienceID = change.text(change.fields.audienceID)
            lastAudiencePlans = plans[lastAudienceID] ?? []
        }
        return (lastAudienceID, lastAudiencePlans)
    }
}
