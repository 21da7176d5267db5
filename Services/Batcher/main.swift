// cohortsync-batcher: wires options, configuration, Kafka and the BatcherEngine; nothing more.
import BatcherCore
import Foundation
import Kafka
import Observability
import Runtime
import Stage
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync-batcher",
    summary: "Turns \(TopicNames.hashed) into API-sized add/remove batches on \(TopicNames.batchesX) and \(TopicNames.batchesTikTok), "
        + "keeping each partition's membership store in the compacted \(TopicNames.batcherState).",
    options: StageOptions.options(defaultGroup: "cohortsync-batcher") + ServiceSettings.options(defaultHTTPPort: 9103))
let startup = StageStartup(spec: spec, stage: "batcher")
let admin = startup.makeAdmin()
let hashed = startup.partitionCount(of: TopicNames.hashed, admin: admin)
if let mismatch = PartitionAlignment.mismatch(hashed: hashed, batcherState: startup.partitionCount(of: TopicNames.batcherState, admin: admin)) {
    CommandLineEntry.fail(spec.executable, mismatch, status: 78)
}
for topic in [TopicNames.batchesX, TopicNames.batchesTikTok] { _ = startup.partitionCount(of: topic, admin: admin) }
await startup.runBatcher(
    metrics: MetricsRegistry(), health: HealthState(), engineSettings: BatcherEngine.Settings(recordBytes: startup.recordLimit.bytes))
