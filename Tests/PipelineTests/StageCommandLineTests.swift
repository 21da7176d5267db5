import Foundation
import Kafka
import Observability
import TestSupport
import Testing

/// The stages' start-up as operators meet it: --help, --print-config, and a bad configuration.
@Suite("Stage executables at start-up")
struct StageCommandLineTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/config.json").path

    @Test(
        "--print-config shows the effective configuration and Kafka settings, credentials as references and secrets redacted",
        arguments: ["cohortsync-ingest", "cohortsync-normalize", "cohortsync-batcher", "cohortsync-upload-x", "cohortsync-upload-tiktok"])
    func printConfig(_ executable: String) async throws {
        let secrets = [
            "X_CONSUMER_KEY": "very-secret-consumer-key", "KAFKA_SASL_PASSWORD": "very-secret-sasl-password",
            "KAFKA_SSL_KEY_PASSWORD": "very-secret-key-password", "KAFKA_SSL_KEY_PEM": "-----BEGIN PRIVATE KEY-----very-secret-pem",
        ]
        let child = try ChildProcess(
            try BuildProducts.executable(executable), ["--config", Self.example, "--print-config"],
            environment: secrets.merging(["KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISMS": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "cohortsync"]) { $1 })
        #expect(await child.waitForExit(timeout: .seconds(10)) == 0, "\(child.stderr)")
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(child.stdout.utf8)) as? [String: Any])
        #expect(child.stdout.contains("\"x-main\""))
        #expect(child.stdout.contains("\"env\" : \"X_CONSUMER_KEY\""))
        let kafka = try #require(printed["kafka"] as? [String: String])
        #expect(kafka["security.protocol"] == "SASL_SSL" && kafka["sasl.mechanisms"] == "SCRAM-SHA-512" && kafka["sasl.username"] == "cohortsync")
        #expect(kafka["sasl.password"] == "[redacted]" && kafka["ssl.key.password"] == "[redacted]" && kafka["ssl.key.pem"] == "[redacted]")
        for value in secrets.values {
            #expect(!child.stdout.contains(value) && !child.stderr.contains(value), "\(executable) printed a secret")
        }
    }

    @Test("TLS and SASL settings from KAFKA_* reach librdkafka: a missing CA file or an unknown mechanism stops the stage with exit 78, naming it")
    func kafkaSecuritySettings() async throws {
        let cases: [([String: String], String)] = [
            (["KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_LOCATION": "/nonexistent/cohortsync-ca.pem"], "ssl.ca.location"),
            (["KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISMS": "NOT-A-MECHANISM", "KAFKA_SASL_PASSWORD": "very-secret-sasl-password"], "NOT-A-MECHANISM"),
        ]
        for (environment, named) in cases {
            let child = try ChildProcess(
                try BuildProducts.executable("cohortsync-normalize"), ["--config", Self.example, "--http-port", "0"],
                environment: environment.merging(["KAFKA_BROKERS": TestBroker.bootstrapServers]) { $1 })
            #expect(await child.waitForExit(timeout: .seconds(20)) == 78, "\(child.stderr.suffix(500))")
            #expect(child.stderr.contains(named), "the refusal names \(named): \(child.stderr.suffix(500))")
            #expect(!child.stderr.contains("very-secret-sasl-password"))
        }
    }

    @Test("an uploader refuses a request timeout a stop could not wait out (exit 64), and a credential it cannot read (exit 78)", arguments: ["cohortsync-upload-x", "cohortsync-upload-tiktok"])
    func uploaderStartChecks(_ executable: String) async throws {
        let credentials = [
            "X_CONSUMER_KEY": "k", "X_CONSUMER_SECRET": "s", "X_TOKEN": "t", "X_TOKEN_SECRET": "ts", "TIKTOK_ACCESS_TOKEN": "tt",
            "KAFKA_BROKERS": TestBroker.bootstrapServers,
        ]
        let slow = try ChildProcess(
            try BuildProducts.executable(executable), ["--config", Self.example, "--request-timeout-seconds", "12", "--shutdown-grace", "25"],
            environment: credentials)
        #expect(await slow.waitForExit(timeout: .seconds(10)) == 64)
        #expect(slow.stderr.contains("--request-timeout-seconds 12 must be below 10 s"))
        let missing = try ChildProcess(try BuildProducts.executable(executable), ["--config", Self.example], environment: ["KAFKA_BROKERS": TestBroker.bootstrapServers])
        #expect(await missing.waitForExit(timeout: .seconds(10)) == 78)
        #expect(missing.stderr.contains("unset or empty"))
    }

    @Test("an invalid configuration stops the stage with exit 78 and the JSON path of each problem")
    func invalidConfig() async throws {
        let path = NSTemporaryDirectory() + TestBroker.uniqueName("bad-config") + ".json"
        try #"{"connections": [{"id": "x", "destination": "myspace"}], "syncs": [{"audience": "a", "connection": "x", "cadence": "weekly"}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-normalize"), ["--config", path])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 78)
        #expect(child.stderr.contains("$.connections[0].destination"))
        #expect(child.stderr.contains("$.syncs[0].cadence"))
    }

    @Test("Kubernetes' KAFKA_PORT=tcp://… and friends are ignored with one warning; the stage starts and becomes ready")
    func kubernetesEnvironment() async throws {
        let child = try Self.startNormalize(environment: [
            "KAFKA_PORT": "tcp://10.0.0.1:9092", "KAFKA_SERVICE_HOST": "10.0.0.1", "KAFKA_PORT_9092_TCP": "tcp://10.0.0.1:9092",
        ])
        defer { child.stop() }
        let warning = try await child.waitForLog(containing: "ignoring KAFKA_* variables", timeout: .seconds(20))
        #expect(warning.contains("KAFKA_PORT,KAFKA_PORT_9092_TCP,KAFKA_SERVICE_HOST"))
        let port = try await child.listeningPort()
        #expect(try await HTTPProbe.get("http://127.0.0.1:\(port)/healthz").status == 200)
        child.send(SIGTERM)
        #expect(await child.waitForExit(timeout: .seconds(20)) == 0, "\(child.stderr.suffix(2000))")
    }

    @Test("a credential that cannot be read is a warning naming its path for stages that never call a destination")
    func credentialWarning() async throws {
        let child = try Self.startNormalize(environment: ["X_CONSUMER_KEY": ""])
        defer { child.stop() }
        let warning = try await child.waitForLog(containing: "a credential cannot be read", timeout: .seconds(20))
        #expect(warning.contains("$.connections[0].credentials.consumerKey"))
        _ = try await child.listeningPort()
        #expect(child.isRunning)
    }

    /// Starts normalize on the example configuration with `environment` added, once the topics it checks at
    /// start exist (a fresh broker has none). It reads from the end of `members`: a stage of its own must not
    /// process the records of other suites again.
    static func startNormalize(environment: [String: String]) throws -> ChildProcess {
        let admin = try KafkaAdmin(
            configuration: KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers]),
            logger: Logger(stage: "start-up-test", minimumLevel: .error))
        try IngestNormalizeTests.createInternalTopics(admin)
        return try ChildProcess(
            try BuildProducts.executable("cohortsync-normalize"),
            ["--config", example, "--group", TestBroker.uniqueName("normalize"), "--http-host", "127.0.0.1", "--http-port", "0"],
            environment: ["KAFKA_BROKERS": TestBroker.bootstrapServers, "KAFKA_AUTO_OFFSET_RESET": "latest"].merging(environment) { $1 })
    }

    @Test("an idle fetch pause out of range stops the stage with exit 64, naming the option and what it takes", arguments: ["5", "1001", "-1"])
    func idleFetchPauseOutOfRange(_ value: String) async throws {
        let child = try ChildProcess(
            try BuildProducts.executable("cohortsync-normalize"), ["--config", Self.example],
            environment: ["KAFKA_BROKERS": TestBroker.bootstrapServers, "COHORTSYNC_IDLE_FETCH_PAUSE_MS": value])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 64)
        #expect(child.stderr.contains("--idle-fetch-pause-ms"))
        #expect(child.stderr.contains("'\(value)'"))
    }

    @Test("ingest without upstream topics says which option is missing")
    func missingTopics() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-ingest"), ["--config", Self.example])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 64)
        #expect(child.stderr.contains("--topics or COHORTSYNC_UPSTREAM_TOPICS"))
    }

    @Test("--help works without a configuration", arguments: ["cohortsync-ingest", "cohortsync-normalize"])
    func help(_ executable: String) async throws {
        let child = try ChildProcess(try BuildProducts.executable(executable), ["--help"])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 0)
        #expect(child.stdout.contains("COHORTSYNC_CONFIG"))
    }
}
