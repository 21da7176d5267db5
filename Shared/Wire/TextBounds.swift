/// The longest free text the pipeline carries from upstream, in UTF-8 bytes. Ingest refuses longer upstream
/// values; the stages after it refuse records that carry longer ones (from another writer, or damaged),
/// because these texts end up in state records, batches and results, each of which must stay one small record.
public enum TextBounds {
    /// `audience.id` and the ids that stand in for it.
    public static let audienceID = 256
    /// A snapshot's id.
    public static let snapshotID = 256
    /// An audience's display name.
    public static let audienceName = 1024
}
