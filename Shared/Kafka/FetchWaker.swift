import CRdKafka
import Foundation
import Synchronization

/// Wakes librdkafka's thread for a broker after idle partitions were resumed (`ConsumerCore.resumeIdle`).
///
/// librdkafka 2.0 applies a resume only when the thread that fetches from the broker next wakes, and with
/// nothing to fetch that thread sleeps for up to a second, so a resumed partition would wait that long for its
/// first fetch (a record written meanwhile took 559 – 686 ms at the median to reach its handler). Any request
/// for that broker wakes the thread, so a watermark query is sent for one resumed partition. Before 2.3,
/// librdkafka waits for that query's answer whatever its timeout, and for as long as the broker is unreachable,
/// so the query runs on a thread of its own, never the poll thread, with at most one in flight: while one
/// waits, further wake-ups are skipped. The thread keeps the client alive until the query returns.
final class FetchWaker: Sendable {
    private let inFlight = Atomic(false)

    func wake(_ client: RDKafkaClient, for partition: TopicPartition) {
        guard inFlight.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        Thread.detachNewThread { [self] in
            var low: Int64 = 0
            var high: Int64 = 0
            _ = rd_kafka_query_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high, 0)
            inFlight.store(false, ordering: .releasing)
        }
    }
}
