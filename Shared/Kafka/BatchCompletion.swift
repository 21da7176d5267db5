import Synchronization

/// Counts the outstanding work of one batch of input records and reports once, when all of it is done or
/// the first part of it failed.
///
/// One object per input batch, not per record: each produced record's acknowledgement is one atomic
/// decrement. Whoever creates it holds one count; `KafkaProducer.send(_:completion:)` adds one per record
/// it enqueues; a stage that finishes its inputs later (a batcher flushing minutes after) holds one of its
/// own with `hold()` and gives it back with `release()`.
public final class BatchCompletion: Sendable {
    private let outstanding = Atomic(1)
    private let reported = Atomic(false)
    private let report: @Sendable (Result<Void, KafkaError>) -> Void

    /// - Parameter report: called exactly once: with success when the count reaches zero, or with the first
    ///   failure. It runs on whichever thread finished the work (often the producer's poll thread): keep it short.
    public init(report: @escaping @Sendable (Result<Void, KafkaError>) -> Void) {
        self.report = report
    }

    /// Adds `count` pieces of outstanding work. Call it while holding a count yourself (inside the handler
    /// that received this completion, before giving that count back), never after the count reached zero.
    public func hold(_ count: Int = 1) {
        outstanding.add(count, ordering: .relaxed)
    }

    /// Marks `count` pieces done; reports success when nothing is outstanding any more.
    public func release(_ count: Int = 1) {
        if outstanding.subtract(count, ordering: .acquiringAndReleasing).newValue == 0 {
            finish(.success(()))
        }
    }

    /// Reports `error` now, if nothing was reported yet; what is still outstanding no longer matters.
    public func fail(_ error: KafkaError) {
        finish(.failure(error))
    }

    /// Whether the outcome was reported.
    public var isFinished: Bool { reported.load(ordering: .acquiring) }

    private func finish(_ result: Result<Void, KafkaError>) {
        guard reported.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        report(result)
    }
}
