import Foundation
import TestSupport
import Testing

/// The stages' start-up as operators meet it: --help, --print-config, and a bad configuration.
@Suite("Stage executables at start-up")
struct StageCommandLineTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/config.json").path

    @Test("--print-config shows the effective configuration with credential references, never values", arguments: ["cohortsync-ingest", "cohortsync-normalize"])
    func printConfig(_ executable: String) async throws {
        let child = try ChildProcess(
            try BuildProducts.executable(executable),
            ["--config", Self.example, "--print-config"],
            environment: ["X_CONSUMER_KEY": "very-secret-consumer-key"])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 0)
        #expect(child.stdout.contains("\"x-main\""))
        #expect(child.stdout.contains("\"env\" : \"X_CONSUMER_KEY\""))
        #expect(!child.stdout.contains("very-secret-consumer-key"))
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
