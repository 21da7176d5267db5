// cohortsync-upload-tiktok: wires options, configuration, Kafka and the UploadEngine; nothing more.
import Kafka
import Observability
import Runtime
import Stage
import Upload
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync-upload-tiktok",
    summary: "Uploads the batches on \(TopicNames.batchesTikTok) to the TikTok Business API (partner segments): creates each audience once "
        + "(mapping in \(TopicNames.audiences)), retries transient failures, pauses a connection whose credential is refused, "
        + "and writes one result per batch to \(TopicNames.results) and refused users to \(TopicNames.deadLetters).",
    options: StageOptions.options(defaultGroup: "cohortsync-upload-tiktok") + UploadOptions.options(for: .tiktok) + ServiceSettings.options(defaultHTTPPort: 9105))
let startup = StageStartup(spec: spec, stage: "upload-tiktok")
let admin = startup.makeAdmin()
for topic in [TopicNames.batchesTikTok, TopicNames.results, TopicNames.deadLetters] { _ = startup.partitionCount(of: topic, admin: admin) }
let mappingPartitions = startup.partitionCount(of: TopicNames.audiences, admin: admin)
await startup.runUploader(destination: .tiktok, metrics: MetricsRegistry(), health: HealthState(), mappingPartitions: mappingPartitions)
