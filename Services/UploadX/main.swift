// cohortsync-upload-x: wires options, configuration, Kafka and the UploadEngine; nothing more.
import Kafka
import Observability
import Runtime
import Stage
import Upload
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync-upload-x",
    summary: "Uploads the batches on \(TopicNames.batchesX) to the X Ads API (custom audiences): creates each audience once "
        + "(mapping in \(TopicNames.audiences)), retries transient failures, pauses a connection whose credential is refused, "
        + "and writes one result per batch to \(TopicNames.results) and refused users to \(TopicNames.deadLetters).",
    options: StageOptions.options(defaultGroup: "cohortsync-upload-x") + UploadOptions.options(for: .x) + ServiceSettings.options(defaultHTTPPort: 9104))
let startup = StageStartup(spec: spec, stage: "upload-x")
let admin = startup.makeAdmin()
for topic in [TopicNames.batchesX, TopicNames.results, TopicNames.deadLetters] { _ = startup.partitionCount(of: topic, admin: admin) }
let mappingPartitions = startup.partitionCount(of: TopicNames.audiences, admin: admin)
await startup.runUploader(destination: .x, metrics: MetricsRegistry(), health: HealthState(), mappingPartitions: mappingPartitions)
