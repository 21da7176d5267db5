@testable import Kafka
import Testing

@Suite("KafkaConfiguration from the environment")
struct KafkaConfigurationTests {
    @Test("KAFKA_BROKERS sets bootstrap.servers and KAFKA_<PROPERTY> sets any librdkafka property")
    func environmentMapping() {
        let configuration = KafkaConfiguration.fromEnvironment([
            "KAFKA_BROKERS": "b1:9092,b2:9092",
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISMS": "PLAIN",
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "KAFKA_SSL_CA_LOCATION": "/etc/ca.pem",
            "HOME": "/root",
        ])
        #expect(configuration.properties == [
            "bootstrap.servers": "b1:9092,b2:9092",
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "PLAIN",
            "session.timeout.ms": "6000",
            "ssl.ca.location": "/etc/ca.pem",
        ])
    }

    @Test("Kubernetes service variables are ignored and listed; a real property with a bad value still fails naming it")
    func kubernetesVariables() throws {
        let configuration = KafkaConfiguration.fromEnvironment([
            "KAFKA_BROKERS": "b1:9092",
            "KAFKA_PORT": "tcp://10.0.0.1:9092",
            "KAFKA_SERVICE_HOST": "10.0.0.1",
            "KAFKA_SERVICE_PORT": "9092",
            "KAFKA_PORT_9092_TCP_ADDR": "10.0.0.1",
            "KAFKA_LINGER_MS": "7",
        ])
        #expect(configuration.properties == ["bootstrap.servers": "b1:9092", "linger.ms": "7"])
        #expect(configuration.ignoredVariables == ["KAFKA_PORT", "KAFKA_PORT_9092_TCP_ADDR", "KAFKA_SERVICE_HOST", "KAFKA_SERVICE_PORT"])
        _ = try KafkaProducer(configuration: configuration, logger: .init(stage: "test", minimumLevel: .error))

        let bad = KafkaConfiguration.fromEnvironment(["KAFKA_LINGER_MS": "soon"])
        #expect(bad.ignoredVariables.isEmpty)
        let error = #expect(throws: KafkaError.self) { _ = try KafkaProducer(configuration: bad, logger: .init(stage: "test", minimumLevel: .error)) }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("linger.ms") == true)
    }

    @Test("a double underscore stands for a literal underscore")
    func doubleUnderscore() {
        #expect(KafkaConfiguration.propertyName(fromVariableSuffix: "SSL__KEY") == "ssl_key")
        #expect(KafkaConfiguration.propertyName(fromVariableSuffix: "QUEUE_BUFFERING_MAX_MS") == "queue.buffering.max.ms")
    }

    @Test("the broker list defaults to the local broker")
    func defaultBroker() {
        #expect(KafkaConfiguration.fromEnvironment([:]).properties == ["bootstrap.servers": "127.0.0.1:9092"])
    }

    @Test("redaction hides passwords and keys and keeps the rest")
    func redaction() {
        let configuration = KafkaConfiguration(properties: [
            "sasl.password": "hunter2", "ssl.key.password": "k", "sasl.username": "svc", "ssl.key.pem": "-----BEGIN",
        ])
        #expect(configuration.redacted == [
            "sasl.password": "[redacted]", "ssl.key.password": "[redacted]", "sasl.username": "svc", "ssl.key.pem": "[redacted]",
        ])
    }

    @Test("enforced settings win over configured ones, defaults lose to them")
    func merging() {
        let merged = KafkaConfiguration(properties: ["acks": "1", "linger.ms": "50"])
            .merging(defaults: ["linger.ms": "5", "partitioner": "murmur2_random"], enforced: ["acks": "all"])
        #expect(merged.properties == ["acks": "all", "linger.ms": "50", "partitioner": "murmur2_random"])
    }

    @Test("librdkafka refuses an unknown property with an error that names it and hides secrets")
    func refusedProperty() throws {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: KafkaConfiguration(properties: ["no.such.property": "1"]),
                logger: .init(stage: "test", minimumLevel: .error))
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("no.such.property") == true)
    }
}
