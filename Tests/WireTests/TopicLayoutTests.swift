import Testing
import Wire

@Suite("Internal topic layout")
struct TopicLayoutTests {
    @Test("members, hashed and the batcher changelog always share one partition count")
    func alignment() {
        let layout = TopicLayout(memberPartitions: 24, batchPartitions: 3)
        let partitions = Dictionary(uniqueKeysWithValues: layout.topics.map { ($0.name, $0.partitions) })
        #expect(partitions[TopicNames.members] == 24)
        for name in TopicLayout.alignedWithMembers {
            #expect(partitions[name] == 24, "\(name) must match members")
        }
        #expect(partitions[TopicNames.batchesX] == 3)
    }

    @Test("exactly the state topics are compacted, and every internal topic is planned once")
    func compaction() {
        let topics = TopicLayout().topics
        #expect(Set(topics.filter(\.compacted).map(\.name)) == TopicNames.compacted)
        #expect(Set(topics.map(\.name)).count == topics.count)
        #expect(Set(topics.map(\.name)) == [
            TopicNames.members, TopicNames.hashed, TopicNames.batchesX, TopicNames.batchesTikTok, TopicNames.results,
            TopicNames.deadLetters, TopicNames.batcherState, TopicNames.audiences,
        ])
    }

    @Test("each destination has its own batches topic")
    func batchesTopics() {
        #expect(TopicNames.batches(for: .x) == "cohortsync.batches.x.v1")
        #expect(TopicNames.batches(for: .tiktok) == "cohortsync.batches.tiktok.v1")
        #expect(TopicNames.batches(for: .unspecified) == nil)
    }
}
