import Dispatch
import Observability

/// Partitions leaving this member in a rebalance, and the handshake that lets the member finish them first.
public final class PartitionRevocation: Sendable {
    /// The partitions being revoked.
    public let partitions: [TopicPartition]
    /// True when the partitions were lost (session timeout) and may already belong to another member:
    /// their offsets are not committed, and in-flight work for them should be abandoned.
    public let lost: Bool
    private let finished = DispatchSemaphore(value: 0)

    init(partitions: [TopicPartition], lost: Bool) {
        self.partitions = partitions
        self.lost = lost
    }

    /// Tells the consumer the member is done with these partitions: offsets are stored, work finished or abandoned.
    public func complete() {
        finished.signal()
    }

    /// Blocks the calling (poll) thread until `complete()` or the timeout; true if completed.
    func wait(timeout: Duration) -> Bool {
        finished.wait(timeout: .now() + timeout.inSeconds) == .success
    }
}
