// stage-bench: ingest's and normalize's per-record work in process, on one thread, without a broker: ingest
// parses native JSON events and encodes members; normalize decodes them, applies X's and TikTok's rules,
// hashes and encodes. Records go through the stages' own `process(_:into:)` in batches, as the stage runner
// hands them over. Run with scripts/bench-stage-cpu (release build, pinned to one core).
import Config
import Foundation
import IngestCore
import Kafka
import NormalizeCore
import Observability
import Runtime
import Wire

let spec = CommandLineSpec(
    executable: "stage-bench",
    summary: "Runs ingest's and normalize's record processing in process on one thread and reports records/s (median of three runs).",
    options: [
        OptionSpec("count", default: "300000", help: "Upstream events (each with an email, a phone number and an IDFA)."),
        OptionSpec("batch", default: "1000", help: "Records per batch, as one poll hands them over."),
        OptionSpec("stages", default: "ingest,normalize", help: "The stages to measure, comma-separated (one alone for a profile of it)."),
    ])
let options = CommandLineEntry.parse(spec)
let count: Int
let batchSize: Int
do {
    count = try options.integer("count", in: 1...50_000_000)
    batchSize = try options.integer("batch", in: 1...100_000)
} catch {
    CommandLineEntry.fail(spec.executable, error.message, status: 64)
}
let stages = Set((options.string("stages") ?? "").split(separator: ",").map(String.init))
guard !stages.isEmpty, stages.isSubset(of: ["ingest", "normalize"]) else {
    CommandLineEntry.fail(spec.executable, "--stages takes ingest, normalize or both, comma-separated", status: 64)
}

// One X and one TikTok connection syncing the audience: every member is normalized and hashed twice.
setenv("STAGE_BENCH_CREDENTIAL", "unused", 1)
let configJSON = #"""
    {"connections": [
      {"id": "x-main", "destination": "x", "account": "a", "defaultRegion": "US",
       "credentials": {"consumerKey": {"env": "STAGE_BENCH_CREDENTIAL"}, "consumerSecret": {"env": "STAGE_BENCH_CREDENTIAL"},
                       "token": {"env": "STAGE_BENCH_CREDENTIAL"}, "tokenSecret": {"env": "STAGE_BENCH_CREDENTIAL"}}},
      {"id": "tiktok", "destination": "tiktok", "advertiser": "b", "credentials": {"accessToken": {"env": "STAGE_BENCH_CREDENTIAL"}}}],
     "syncs": [{"audience": "aud_bench", "connection": "x-main"}, {"audience": "aud_bench", "connection": "tiktok"}]}
    """#
let config: CohortSyncConfig
do { config = try ConfigParser.parse(Data(configJSON.utf8)) } catch { CommandLineEntry.fail(spec.executable, "\(error)") }

let upstream: [ConsumerRecord] = (0..<count).map { index in
    let line = String(format: "%04d", index % 10_000)
    let json =
        #"{"type":"membership","audience":{"id":"aud_bench"},"action":"enter","user":{"id":"u\#(index)","email":" User.\#(index)@Example.com ","#
        + #""phone":"+1 (555) \#(String(format: "%03d", index % 1000))-\#(line)","idfa":"AEBE52E7-03EE-455A-B3C4-\#(String(format: "%012X", index))"},"#
        + #""consent":{"ads":true},"timestamp":"2026-11-23T19:00:00Z"}"#
    return ConsumerRecord(topic: "cdp.audiences", partition: 0, offset: Int64(index), key: nil, value: Array(json.utf8))
}

let metrics = MetricsRegistry()
let logger = Logger(stage: "stage-bench", minimumLevel: .warning)
let ingest = IngestProcessor(config: config, memberPartitions: 4, metrics: metrics, logger: logger)
let normalize = NormalizeProcessor(config: config)

/// Runs `process` over `records` in batches, one reused output buffer, as the stage runner does; returns the
/// records/s and what the last run produced.
func measure(_ records: [ConsumerRecord], _ process: (ArraySlice<ConsumerRecord>, inout OutgoingRecords) -> Void) -> (rate: Double, outputs: Int) {
    var out = OutgoingRecords()
    var outputs = 0
    let started = ContinuousClock.now
    var index = 0
    while index < records.count {
        let end = min(index + batchSize, records.count)
        process(records[index..<end], &out)
        outputs += out.count
        out.removeAll()
        index = end
    }
    let elapsed = (ContinuousClock.now - started).inSeconds
    return (Double(records.count) / elapsed, outputs)
}

func median(_ runs: [Double]) -> Double { runs.sorted()[runs.count / 2] }

// Ingest's members become normalize's input, with the headers ingest wrote.
var members: [ConsumerRecord] = []
do {
    var out = OutgoingRecords()
    ingest.process(upstream, into: &out, counting: nil)
    members = out.records.enumerated().map { offset, record in
        ConsumerRecord(topic: TopicNames.members, partition: 0, offset: Int64(offset), key: record.key, value: record.value, headers: record.headers)
    }
}
guard members.count == count else { CommandLineEntry.fail(spec.executable, "ingest forwarded \(members.count) of \(count) events") }

var ingestRuns: [Double] = []
var normalizeRuns: [Double] = []
var hashed = 0
for _ in 0..<3 {
    if stages.contains("ingest") {
        ingestRuns.append(measure(upstream) { batch, out in ingest.process(batch, into: &out, counting: nil) }.rate)
    }
    if stages.contains("normalize") {
        let run = measure(members) { batch, out in normalize.process(batch, into: &out, counting: nil) }
        normalizeRuns.append(run.rate)
        hashed = run.outputs
    }
}
if stages.contains("ingest") {
    print("ingest    parse + encode:                  \(Int(median(ingestRuns))) events/s (median of 3; \(ingestRuns.map { Int($0) }))")
}
if stages.contains("normalize") {
    print("normalize decode + rules + SHA-256 + encode: \(Int(median(normalizeRuns))) members/s (median of 3; \(normalizeRuns.map { Int($0) }); \(hashed) hashed records per run)")
}
