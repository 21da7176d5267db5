import Foundation
import TestSupport
import Testing

/// A real executable (the Kafka group member test helper, built on Runtime) as a child process.
@Suite("An executable's lifecycle", .timeLimit(.minutes(2)))
struct GracefulShutdownTests {
    @Test("it serves /metrics and /healthz, and exits 0 within 5 s of SIGTERM")
    func servesAndStopsOnSIGTERM() async throws {
        let output = NSTemporaryDirectory() + TestBroker.uniqueName("lifecycle") + ".log"
        let child = try ChildProcess(
            try BuildProducts.executable("KafkaGroupMember"),
            ["--topic", TestBroker.uniqueName("lifecycle"), "--group", TestBroker.uniqueName("lifecycle-group"), "--output", output,
             "--http-host", "127.0.0.1", "--http-port", "0"],
            environment: ["KAFKA_BROKERS": TestBroker.bootstrapServers])
        defer { child.stop() }
        let port = try await child.listeningPort(timeout: .seconds(20))

        let metrics = try await HTTPProbe.get("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("# TYPE cohortsync_test_member_records_total counter"))
        let health = try await HTTPProbe.get("http://127.0.0.1:\(port)/healthz")
        #expect(health.status == 200)
        let unknown = try await HTTPProbe.get("http://127.0.0.1:\(port)/nope")
        #expect(unknown.status == 404)

        let signalled = ContinuousClock.now
        child.send(SIGTERM)
        let status = await child.waitForExit(timeout: .seconds(5))
        #expect(status == 0, "exit status \(String(describing: status)) after \(ContinuousClock.now - signalled); stderr:\n\(child.stderr.suffix(3000))")
        #expect(child.stderr.contains("\"reason\":\"SIGTERM\""))
    }

    @Test("a bad flag exits 64 with a message naming it; --help exits 0 and lists the shared options")
    func commandLine() async throws {
        let member = try BuildProducts.executable("KafkaGroupMember")
        let bad = try ChildProcess(member, ["--no-such-flag"])
        #expect(await bad.waitForExit(timeout: .seconds(10)) == 64)
        #expect(bad.stderr.contains("unknown option --no-such-flag"))
        let help = try ChildProcess(member, ["--help"])
        #expect(await help.waitForExit(timeout: .seconds(10)) == 0)
    }
}
