import Kafka

/// The one bound on the size of every record a stage writes, from `--max-record-bytes`.
///
/// A record a stage cannot produce because of its own size is that input's refusal (DLQ `too-large`), not
/// the stage's failure: otherwise one oversized record stops the stage, and restarts read it again for ever.
/// The producer's own limit (`message.max.bytes`) is derived from this one with room to spare, so records
/// that pass this check are never refused by librdkafka, and its batches (`batch.size`) are kept within it,
/// so a broker whose `message.max.bytes` (topic `max.message.bytes`) is at least this value takes them all.
public struct RecordSizeLimit: Sendable, Equatable {
    /// Below Apache Kafka's default broker limit (1,048,588 bytes) with room for the batch framing.
    public static let defaultBytes = 1_000_000
    /// Records built from ingest's bounded fields (docs/input-formats.md) take a few KiB: below this the
    /// limit would refuse valid members.
    public static let minimumBytes = 16 << 10
    /// librdkafka's `message.max.bytes` tops out at 1,000,000,000; the headroom must fit under it.
    public static let maximumBytes = 1_000_000_000 - producerHeadroom
    /// What librdkafka may add around a record within one produce request.
    static let producerHeadroom = 64 << 10

    /// The most bytes of key, value and headers one record may take.
    public let bytes: Int

    public init(bytes: Int = defaultBytes) {
        self.bytes = bytes
    }

    /// The producer's `message.max.bytes` that lets every admitted record through.
    public var producerMessageMaxBytes: Int { bytes + Self.producerHeadroom }

    /// Bytes a broker counts around one record in a batch of its own: the batch header (61) and the
    /// record's framing (varints, attributes: at most 30), rounded up; and per header (two varints).
    static let batchOverhead = 128
    static let headerOverhead = 8

    /// The size of a record in a batch of its own, as a broker's `max.message.bytes` counts it: key, value,
    /// header names and values, and the framing around them.
    public static func size(of shape: OutgoingRecords.Shape) -> Int {
        batchOverhead + shape.keyBytes + shape.valueBytes + shape.headerCount * headerOverhead + shape.headerBytes
    }

    /// The first record appended since `mark` that is over the limit, as a refusal detail naming its topic
    /// and size; nil when all fit.
    public func oversized(_ records: OutgoingRecords, since mark: OutgoingRecords.Mark) -> String? {
        for index in mark.records..<records.count {
            let shape = records.shape(at: index)
            let size = Self.size(of: shape)
            if size > bytes {
                return "the record for \(shape.topic) would be \(size) bytes; at most \(bytes) (--max-record-bytes)"
            }
        }
        return nil
    }
}
