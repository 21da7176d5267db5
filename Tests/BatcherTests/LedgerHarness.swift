import BatcherCore
import Config
import Foundation
import Kafka
import Testing
import Wire

/// Drives one partition's ledger with hand-written records and a clock the test moves, and shows what each
/// flush emits as readable lines: `remove u1 email:01 phone:02` (the scope first when there is one).
struct LedgerHarness {
    static let start: Int64 = 1_800_000_000_000
    let configJSON: String
    var ledger: PartitionLedger
    var now = LedgerHarness.start
    private var offset: Int64 = 0
    /// Changelog records written by every flush, in order: what a restore reads back.
    private(set) var changelog: [ChangelogRecord] = []

    init(_ configJSON: String, recordBytes: Int = 1_000_000) throws {
        self.configJSON = configJSON
        ledger = PartitionLedger(partition: 0, config: try ConfigParser.parse(Data(configJSON.utf8)), recordBytes: recordBytes, batchPrefix: "t")
    }

    static func digest(_ seed: UInt8) -> [UInt8] { [UInt8](repeating: seed, count: 32) }

    static func ids(_ pairs: [(IdentifierType, UInt8)]) -> [HashedIdentifier] {
        pairs.map { HashedIdentifier(type: $0.0, sha256: digest($0.1)) }
    }

    mutating func apply(_ record: HashedRecord, completion: BatchCompletion? = nil) {
        offset += 1
        ledger.apply(record, trace: SourcePosition(topic: TopicNames.hashed, partition: 0, offset: offset), completion: completion, now: now)
    }

    mutating func member(
        _ action: MemberAction, _ user: String, _ pairs: [(IdentifierType, UInt8)] = [], connection: String = "x-main", audience: String = "aud",
        snapshot: String = "", time: Int64 = 0, completion: BatchCompletion? = nil
    ) {
        apply(
            .member(HashedMember(
                connectionID: connection, audienceID: audience, userKey: user, action: action, snapshotID: snapshot, identifiers: Self.ids(pairs),
                eventTimeMilliseconds: time)),
            completion: completion)
    }

    mutating func snapshot(_ phase: SnapshotPhase, _ id: String, audience: String = "aud", complete: Bool = true, began: Int64 = 0) {
        apply(.snapshot(SnapshotMarker(audienceID: audience, snapshotID: id, phase: phase, complete: complete, beganAtMilliseconds: began)))
    }

    mutating func lifecycle(_ event: AudienceEvent, audience: String = "aud", name: String = "") {
        apply(.lifecycle(AudienceLifecycle(audienceID: audience, name: name, event: event)))
    }

    mutating func advance(seconds: Int64) { now += seconds * 1_000 }

    /// What the due flushes emit.
    mutating func due() -> [Batch] { take(ledger.dueFlushes(now: now)) }

    /// What flushing everything emits.
    mutating func flush() -> [Batch] { take(ledger.flushAll(now: now)) }

    /// The plans of the next flush of everything, for tests that look at completions or the changelog.
    mutating func flushPlans() -> [FlushPlan] {
        let plans = ledger.flushAll(now: now)
        for plan in plans { changelog += plan.changelog }
        return plans
    }

    private mutating func take(_ plans: [FlushPlan]) -> [Batch] {
        for plan in plans {
            changelog += plan.changelog
            for completion in plan.completions { completion.release() }
        }
        return plans.flatMap(\.batches)
    }

    /// Reads `records` back into the ledger as a changelog restore would, encoded as the topic holds them;
    /// returns how many were readable.
    @discardableResult
    mutating func restore(_ records: some Sequence<ChangelogRecord>, firstOffset: Int64 = 0) -> Int {
        var readable = 0
        for (index, record) in records.enumerated() {
            let entry = PartitionEntry(offset: firstOffset + Int64(index), key: record.key, value: record.state?.serializedBytes())
            readable += ledger.restore(entry) ? 1 : 0
        }
        return readable
    }

    /// A ledger restored from everything flushed so far, under `configJSON` (default: the same one).
    func restored(_ configJSON: String? = nil) throws -> LedgerHarness {
        var copy = try LedgerHarness(configJSON ?? self.configJSON)
        copy.restore(changelog)
        copy.now = now
        copy.changelog = changelog
        return copy
    }

    /// One line per user per batch; delete-audience batches as `delete-audience <scope>`.
    static func lines(_ batches: [Batch]) -> [String] {
        batches.flatMap { batch -> [String] in
            let scope = batch.scope == .unspecified ? "" : "[\(batch.scope.name)] "
            let operation = batch.operation == .add ? "add" : batch.operation == .remove ? "remove" : "delete-audience"
            if batch.operation == .deleteAudience { return ["\(scope)\(operation) \(batch.connectionID)/\(batch.audienceID)"] }
            return batch.users.map { user in
                let identifiers = user.identifiers.map { "\($0.type.name):\(String(format: "%02x", $0.sha256[0]))" }.joined(separator: " ")
                return "\(scope)\(operation) \(user.userKey) \(identifiers)"
            }
        }
    }
}

/// Configurations for the scenarios: one sync of `aud` per connection, with the cadence and naming asked for.
enum LedgerConfigs {
    static func x(
        cadence: String = "realtime", maxDelaySeconds: Int = 5, maxRemovalFraction: Double = 0.5, deleteOnUpstreamDelete: Bool = true,
        forward: String = #""email", "phone", "idfa", "x_handle""#, naming: String = "single"
    ) -> String {
        """
        {"connections": [{"id": "x-main", "destination": "x", "account": "acc1",
           "credentials": {"consumerKey": {"env": "XK"}, "consumerSecret": {"env": "XS"}, "token": {"env": "XT"}, "tokenSecret": {"env": "XTS"}},
           "forward": [\(forward)], "audienceNaming": "\(naming)"}],
         "syncs": [{"audience": "aud", "connection": "x-main", "cadence": "\(cadence)", "maxDelaySeconds": \(maxDelaySeconds),
                    "maxRemovalFraction": \(maxRemovalFraction), "deleteOnUpstreamDelete": \(deleteOnUpstreamDelete)}]}
        """
    }

    static let tiktok = """
        {"connections": [{"id": "tt", "destination": "tiktok", "advertiser": "adv1", "credentials": {"accessToken": {"env": "TT"}},
           "forward": ["email", "phone", "idfa"]}],
         "syncs": [{"audience": "aud", "connection": "tt"}]}
        """

    static let both = """
        {"connections": [
           {"id": "x-main", "destination": "x", "account": "acc1",
            "credentials": {"consumerKey": {"env": "XK"}, "consumerSecret": {"env": "XS"}, "token": {"env": "XT"}, "tokenSecret": {"env": "XTS"}},
            "forward": ["email", "phone"]},
           {"id": "tt", "destination": "tiktok", "advertiser": "adv1", "credentials": {"accessToken": {"env": "TT"}}, "forward": ["email", "phone"]}],
         "syncs": [{"audience": "aud", "connection": "x-main"}, {"audience": "aud", "connection": "tt"}, {"audience": "other", "connection": "x-main"}]}
        """
}
