import Kafka
import Stage
import Testing

@Suite("OffsetTracker: which offset may be stored")
struct OffsetTrackerTests {
    let partition = TopicPartition(topic: "t", partition: 0)

    @Test("a record finishing out of order stores nothing until the earlier ones finish")
    func outOfOrder() {
        var tracker = OffsetTracker()
        for offset in Int64(10)...12 { tracker.start(partition, offset: offset) }
        #expect(tracker.finish(partition, offset: 12) == nil)
        #expect(tracker.finish(partition, offset: 11) == nil)
        #expect(tracker.finish(partition, offset: 10) == 13)
        #expect(tracker.unfinishedCount(partition) == 0)
    }

    @Test("the storable offset is one past the last contiguous finished record")
    func contiguousPrefix() {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<5 { tracker.start(partition, offset: offset) }
        #expect(tracker.finish(partition, offset: 0) == 1)
        #expect(tracker.finish(partition, offset: 2) == nil)
        #expect(tracker.finish(partition, offset: 1) == 3)
        #expect(tracker.unfinishedCount(partition) == 2)
    }

    @Test("offsets with gaps (compacted topics, transactions) are tracked by value, not by position")
    func gaps() {
        var tracker = OffsetTracker()
        for offset: Int64 in [3, 7, 20] { tracker.start(partition, offset: offset) }
        #expect(tracker.finish(partition, offset: 7) == nil)
        #expect(tracker.finish(partition, offset: 3) == 8)
        #expect(tracker.finish(partition, offset: 20) == 21)
    }

    @Test("a rewind to an earlier offset starts the partition afresh instead of crashing; earlier in-flight records store nothing")
    func rewind() {
        var tracker = OffsetTracker()
        var first: [OffsetTracker.Start] = []
        for offset in Int64(10)...12 { first.append(tracker.start(partition, offset: offset)) }
        #expect(first.map(\.rewound) == [false, false, false])
        #expect(tracker.finish(partition, offset: 10, generation: first[0].generation) == 11)
        let again = tracker.start(partition, offset: 11)
        #expect(again.rewound && again.generation > first[1].generation, "the rewind is reported")
        // Offset 11 is in flight twice: the completion from before the rewind must not store it.
        #expect(tracker.finish(partition, offset: 11, generation: first[1].generation) == nil)
        #expect(tracker.unfinishedCount(partition) == 1, "the re-read record is still in flight")
        #expect(tracker.finish(partition, offset: 11, generation: again.generation) == 12)
        #expect(tracker.unfinishedCount(partition) == 0)
    }

    @Test("finishing twice or an unknown offset changes nothing")
    func idempotentFinish() {
        var tracker = OffsetTracker()
        tracker.start(partition, offset: 1)
        tracker.start(partition, offset: 2)
        #expect(tracker.finish(partition, offset: 1) == 2)
        #expect(tracker.finish(partition, offset: 1) == nil)
        #expect(tracker.finish(partition, offset: 99) == nil)
        #expect(tracker.unfinishedCount(partition) == 1)
    }

    @Test("partitions are independent, and forgetting one drops its late completions")
    func partitionsAndForget() {
        var tracker = OffsetTracker()
        let other = TopicPartition(topic: "t", partition: 1)
        tracker.start(partition, offset: 5)
        tracker.start(other, offset: 5)
        #expect(tracker.totalUnfinished == 2)
        tracker.forget([other])
        #expect(tracker.finish(other, offset: 5) == nil)
        #expect(tracker.finish(partition, offset: 5) == 6)
        #expect(tracker.totalUnfinished == 0)
    }

    @Test("a partition revoked and assigned again starts a new generation: completions from before store nothing in it")
    func reassignedPartition() {
        var tracker = OffsetTracker()
        // Before the revocation: batches 100...104 and 105...109 in flight.
        let before = tracker.start(partition, first: 100, last: 104)
        let later = tracker.start(partition, first: 105, last: 109)
        tracker.forget([partition])
        // Assigned again and read from 100 in one batch ending at 109, the same last offset as an old one.
        let again = tracker.start(partition, first: 100, last: 109)
        #expect(again.generation != later.generation && again.generation != before.generation)
        #expect(tracker.finish(partition, offset: 109, generation: later.generation) == nil, "an old completion stored an offset of the new window")
        #expect(tracker.unfinishedCount(partition) == 1)
        #expect(tracker.finish(partition, offset: 109, generation: again.generation) == 110)
    }

    @Test("a long run of records keeps the window small and answers correctly")
    func longRun() {
        var tracker = OffsetTracker()
        var stored: Int64?
        for offset in Int64(0)..<100_000 {
            tracker.start(partition, offset: offset)
            if offset % 2 == 1 {
                _ = tracker.finish(partition, offset: offset)
                stored = tracker.finish(partition, offset: offset - 1) ?? stored
            }
        }
        #expect(stored == 100_000)
        #expect(tracker.totalUnfinished == 0)
    }
}
