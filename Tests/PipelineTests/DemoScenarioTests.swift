import Foundation
import TestSupport
import Testing

/// The demo's scenario as a test: every stage as its own process on the local broker, a synthetic cohort of
/// 20,000 members through four phases, and the sandbox compared hash for hash with an expectation that
/// `scripts/demo-cohort.py` computes without the stages' code.
@Suite("The demo scenario end to end", .timeLimit(.minutes(10)))
struct DemoScenarioTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("20,000 members: snapshot, churn with identifier changes and withdrawals, second snapshot, deletion; every sandbox audience exact")
    func demoAt20000() async throws {
        // Ports below the ephemeral range, where the other tests' `--http-port 0` listeners never land.
        let demo = try ChildProcess(
            URL(fileURLWithPath: "/bin/bash"),
            [Self.repository.appendingPathComponent("scripts/demo").path, "--members", "20000"],
            environment: [
                "DEMO_BIN": BuildProducts.directory.path, "DEMO_PORT_BASE": "19300", "DEMO_SANDBOX_PORT": "19389",
                "KAFKA_BROKERS": TestBroker.bootstrapServers,
            ])
        defer { demo.stop() }
        let status = await demo.waitForExit(timeout: .seconds(480))
        if status == nil {
            demo.send(SIGTERM)  // the demo's trap stops every stage it started
            _ = await demo.waitForExit(timeout: .seconds(30))
        }
        let output = demo.stdout
        #expect(status == 0, "the demo did not end in agreement:\n\(output.suffix(3000))\n\(demo.stderr.suffix(2000))")
        for phase in ["snapshot", "churn", "second snapshot", "audience deletion"] {
            #expect(Self.matched(phase, in: output), "phase \(phase) never matched:\n\(output.suffix(3000))")
        }
        let rows = output.split(separator: "\n").filter { line in
            ["ok", "deleted", "DIFFERS"].contains(line.split(separator: " ").last ?? "") && (line.hasPrefix("x ") || line.hasPrefix("tiktok "))
        }
        #expect(rows.count == 10, "one row per destination audience (2 on X, 8 per identifier on TikTok):\n\(output.suffix(3000))")
        #expect(rows.filter { $0.hasSuffix(" ok") }.count == 5)
        #expect(rows.filter { $0.hasSuffix(" deleted") }.count == 5)
    }

    /// Whether the demo printed its "matches" line for `phase` (the phase name is padded into a column).
    static func matched(_ phase: String, in output: String) -> Bool {
        output.split(separator: "\n").contains { line in
            line.trimmingCharacters(in: .whitespaces).hasPrefix(phase) && line.contains("matches the expectation in every audience")
        }
    }
}
