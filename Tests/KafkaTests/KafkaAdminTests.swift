import Kafka
import Observability
import TestSupport
import Testing

@Suite("Admin client on the local broker")
struct KafkaAdminTests {
    let admin: KafkaAdmin

    init() throws {
        admin = try KafkaAdmin(
            configuration: KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers]),
            logger: Logger(stage: "kafka-admin-test", minimumLevel: .error))
    }

    @Test("a compacted topic is created with its partition count; creating it again reports it existed")
    func createCompacted() throws {
        let name = TestBroker.uniqueName("admin-compacted")
        let topic = TopicSpecification(name: name, partitions: 5, configuration: ["cleanup.policy": "compact"])
        #expect(try admin.createTopic(topic) == .created)
        #expect(try admin.partitionCount(of: name) == 5)
        #expect(try admin.createTopic(topic) == .alreadyExisted)
    }

    @Test("asking for an unknown topic's partitions answers nil and does not create it")
    func unknownTopic() throws {
        let name = TestBroker.uniqueName("admin-unknown")
        #expect(try admin.partitionCount(of: name) == nil)
        #expect(try admin.partitionCount(of: name) == nil)
    }

    @Test("an invalid request is refused with an admin error")
    func invalidRequest() throws {
        let error = #expect(throws: KafkaError.self) {
            _ = try admin.createTopic(TopicSpecification(name: TestBroker.uniqueName("admin-bad"), partitions: 0))
        }
        #expect(error?.code == .admin)
    }
}
