import Kafka

/// Tracks which input batches are fully processed, per partition, and the offset that may be stored.
///
/// Batches of a partition start in offset order and may finish in any order (their produced records are
/// acknowledged out of order). A batch is tracked by its last offset. The storable offset of a partition is
/// one past the last offset of the latest batch that, with every batch before it, has finished: storing
/// more would lose data after a crash.
/// Pure logic, no I/O; not thread-safe by itself (the processing loop guards it).
public struct OffsetTracker: Sendable {
    private struct PartitionWindow: Sendable {
        /// Offsets started and not yet released, in start order, with whether each finished.
        var offsets: [Int64] = []
        var finished: [Bool] = []
        var head = 0
        var unfinished = 0
        /// Grows with each rewind, so completions of records started before it are told apart.
        var generation = 0

        mutating func compact() {
            if head > 1024 && head * 2 > offsets.count {
                offsets.removeFirst(head)
                finished.removeFirst(head)
                head = 0
            }
        }
    }

    private var windows: [TopicPartition: PartitionWindow] = [:]
    /// The last generation handed out, over every partition: a window opened after a rewind or after its
    /// partition was forgotten (revoked, then assigned again) never reuses the number of an earlier one.
    private var lastGeneration = 0

    public init() {}

    /// A started record's place: the partition's generation when it started, and whether it rewound it.
    public struct Start: Sendable, Equatable {
        public let generation: Int
        public let rewound: Bool
    }

    /// Registers an input batch of one partition, `first` to `last`, that began processing.
    ///
    /// Offsets of a partition increase, unless librdkafka fetches it again from an earlier offset (a seek, an
    /// offset reset, a resume after a pause in some versions). Such a rewind starts the partition afresh in a
    /// new generation: records still in flight from before it store nothing when they finish (pass the
    /// generation to `finish`), so the worst outcome is a duplicate, never a gap.
    @discardableResult
    public mutating func start(_ partition: TopicPartition, first: Int64, last offset: Int64) -> Start {
        let rewound = windows[partition]?.offsets.last.map { first <= $0 } ?? false
        var window: PartitionWindow
        if let existing = windows[partition], !rewound {
            window = existing
        } else {
            lastGeneration += 1
            window = PartitionWindow()
            window.generation = lastGeneration
        }
        window.offsets.append(offset)
        window.finished.append(false)
        window.unfinished += 1
        windows[partition] = window
        return Start(generation: window.generation, rewound: rewound)
    }

    /// Registers a single input record that began processing.
    @discardableResult
    public mutating func start(_ partition: TopicPartition, offset: Int64) -> Start {
        start(partition, first: offset, last: offset)
    }

    /// Marks a started batch (by its last offset) finished. Returns the new offset to store (next offset to
    /// read), if it advanced.
    /// - Parameter generation: the one `start` returned for the batch; a batch of an earlier generation
    ///   (started before a rewind) changes nothing. Nil: the current one.
    @discardableResult
    public mutating func finish(_ partition: TopicPartition, offset: Int64, generation: Int? = nil) -> Int64? {
        guard var window = windows[partition], generation.map({ $0 == window.generation }) ?? true else { return nil }
        // Binary search in the live part of the window.
        var low = window.head
        var high = window.offsets.count - 1
        var found: Int?
        while low <= high {
            let middle = (low + high) / 2
            if window.offsets[middle] == offset {
                found = middle
                break
            } else if window.offsets[middle] < offset {
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        guard let index = found, !window.finished[index] else { return nil }
        window.finished[index] = true
        window.unfinished -= 1
        var storable: Int64?
        while window.head < window.offsets.count, window.finished[window.head] {
            storable = window.offsets[window.head] + 1
            window.head += 1
        }
        window.compact()
        windows[partition] = window
        return storable
    }

    /// Batches of `partition` started and not finished.
    public func unfinishedCount(_ partition: TopicPartition) -> Int {
        windows[partition]?.unfinished ?? 0
    }

    /// Batches started and not finished, over every partition.
    public var totalUnfinished: Int { windows.values.reduce(0) { $0 + $1.unfinished } }

    /// Forgets partitions (after revocation): late completions for them are ignored.
    public mutating func forget(_ partitions: some Sequence<TopicPartition>) {
        for partition in partitions { windows[partition] = nil }
    }
}
