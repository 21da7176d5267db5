// batcher-bench: the batcher's membership store in process, on one thread, without a broker: how many bytes of
// memory each member takes beyond its digests, how fast members are applied and flushed, that an unchanged
// re-sync of the whole audience emits no operation, and how fast a partition restores from its changelog.
// Run with scripts/bench-batcher (release build, pinned to one core).
import BatcherCore
import Config
import Foundation
import Kafka
import Runtime
import Wire

let spec = CommandLineSpec(
    executable: "batcher-bench",
    summary: "Measures the batcher's store in process: bytes per member beyond digests, apply+flush rate, an unchanged re-sync, restore rate.",
    options: [
        OptionSpec("members", default: "1000000", help: "Members of the one X audience."),
        OptionSpec("chunk", default: "100000", help: "Members applied between flushes, as a realtime window would gather them."),
    ])
let options = CommandLineEntry.parse(spec)
let members: Int
let chunk: Int
do {
    members = try options.integer("members", in: 1...50_000_000)
    chunk = try options.integer("chunk", in: 1...10_000_000)
} catch {
    CommandLineEntry.fail(spec.executable, error.message, status: 64)
}

setenv("BATCHER_BENCH_CREDENTIAL", "unused", 1)
let config: CohortSyncConfig
do {
    config = try ConfigParser.parse(Data(#"""
        {"connections": [{"id": "x-main", "destination": "x", "account": "a", "forward": ["email"],
           "credentials": {"consumerKey": {"env": "BATCHER_BENCH_CREDENTIAL"}, "consumerSecret": {"env": "BATCHER_BENCH_CREDENTIAL"},
                           "token": {"env": "BATCHER_BENCH_CREDENTIAL"}, "tokenSecret": {"env": "BATCHER_BENCH_CREDENTIAL"}}}],
         "syncs": [{"audience": "aud", "connection": "x-main"}]}
        """#.utf8))
} catch {
    CommandLineEntry.fail(spec.executable, error.description, status: 78)
}

/// Resident memory from /proc/self/statm (pages × page size).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

/// One email digest per member, distinct per member (its index in the first eight bytes).
func member(_ index: Int, _ action: MemberAction) -> HashedRecord {
    var digest = [UInt8](repeating: 0xA5, count: 32)
    for byte in 0..<8 { digest[byte] = UInt8(truncatingIfNeeded: index >> (byte * 8)) }
    return .member(
        HashedMember(
            connectionID: "x-main", audienceID: "aud", userKey: "user-\(index)", action: action,
            identifiers: [HashedIdentifier(type: .email, sha256: digest)]))
}

let trace = SourcePosition(topic: TopicNames.hashed, partition: 0, offset: 0)
var now: Int64 = 1_800_000_000_000
var ledger = PartitionLedger(partition: 0, config: config, recordBytes: 1_000_000, batchPrefix: "bench")
var changelog: [ChangelogRecord] = []

// A throwaway window first: the heap one window's records, batches and changelog records need is then part
// of the baseline, so what follows counts the store alone.
var warmUp = PartitionLedger(partition: 0, config: config, recordBytes: 1_000_000, batchPrefix: "warm-up")
for index in 0..<min(chunk, members) { warmUp.apply(member(members + index, .enter), trace: trace, completion: nil, now: now) }
_ = warmUp.flushAll(now: now)
warmUp = PartitionLedger(partition: 0, config: config, recordBytes: 1_000_000, batchPrefix: "warm-up")
let before = residentBytes()
var started = ContinuousClock.now
var operations = 0
for start in stride(from: 0, to: members, by: chunk) {
    for index in start..<min(start + chunk, members) { ledger.apply(member(index, .enter), trace: trace, completion: nil, now: now) }
    for plan in ledger.flushAll(now: now) { operations += plan.batches.reduce(0) { $0 + $1.users.count } }
}
let buildSeconds = (ContinuousClock.now - started).inSeconds
let after = residentBytes()
let perMember = Double(after - before) / Double(members) - 32
print(String(format: "build: %d members applied and flushed (%d add operations) in %.2f s: %.0f members/s", members, operations, buildSeconds, Double(members) / buildSeconds))
print(String(format: "memory: %.1f MiB resident for %d members: %.1f bytes per member beyond its 32-byte digest", Double(after - before) / 1_048_576, members, perMember))

// An unchanged re-sync: a complete snapshot of the same members with the same identifiers.
now += 86_400_000
started = ContinuousClock.now
ledger.apply(.snapshot(SnapshotMarker(audienceID: "aud", snapshotID: "s2", phase: .begin)), trace: trace, completion: nil, now: now)
var resyncOperations = 0
for start in stride(from: 0, to: members, by: chunk) {
    for index in start..<min(start + chunk, members) { ledger.apply(member(index, .snapshotMember), trace: trace, completion: nil, now: now) }
    for plan in ledger.flushAll(now: now) {
        resyncOperations += plan.batches.reduce(0) { $0 + $1.users.count }
        changelog += plan.changelog
    }
}
ledger.apply(.snapshot(SnapshotMarker(audienceID: "aud", snapshotID: "s2", phase: .end, complete: true)), trace: trace, completion: nil, now: now)
for plan in ledger.flushAll(now: now) {
    resyncOperations += plan.batches.reduce(0) { $0 + $1.users.count }
    changelog += plan.changelog
}
let resyncSeconds = (ContinuousClock.now - started).inSeconds
print(String(format: "unchanged re-sync: %d members in %.2f s (%.0f members/s): %d operations emitted", members, resyncSeconds, Double(members) / resyncSeconds, resyncOperations))

// A restore of the changelog the re-sync wrote (one record per member), encoded as the topic holds it.
let entries = changelog.enumerated().map { PartitionEntry(offset: Int64($0.offset), key: $0.element.key, value: $0.element.state?.serializedBytes()) }
changelog = []
var restored = PartitionLedger(partition: 0, config: config, recordBytes: 1_000_000, batchPrefix: "restore")
started = ContinuousClock.now
let unreadable = entries.reduce(0) { $0 + (restored.restore($1) ? 0 : 1) }
let restoreSeconds = (ContinuousClock.now - started).inSeconds
let restoredMembers = restored.members.reduce(0) { $0 + $1.count }
print(String(format: "restore: %d changelog records in %.2f s (%.0f records/s), %d members", entries.count, restoreSeconds, Double(entries.count) / restoreSeconds, restoredMembers))
if resyncOperations != 0 || restoredMembers != members || unreadable != 0 { exit(1) }
