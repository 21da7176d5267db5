import Foundation
import Kafka
import Observability
import TestSupport
import Testing
import Wire

extension BatcherPipelineTests {
/// `cohortsync status` with the configuration: the audience sizes the destinations report, asked through the
/// connections' own clients, against audiences the real uploaders created in the sandbox. Nested in the
/// batcher's serialized suite, as the uploaders' suite is, so its processes never load the machine alongside those.
@Suite("Operator CLI: status shows the sizes the destinations report", .timeLimit(.minutes(6)))
struct StatusSizes {
    let logger = Logger(stage: "status-size-test", minimumLevel: .error)

    @Test("X rounds to two significant digits and withholds under 100 (TOO_SMALL); TikTok counts and marks under 1,000 not valid; '-' without the configuration")
    func reportedSizes() async throws {
        let harness = try await UploadHarness(logger: logger)
        defer { harness.stop() }
        let tail = try await TopicTail([TopicNames.results], fromEnd: true, logger: logger)
        let x = try await harness.start(.x)
        let tiktok = try await harness.start(.tiktok)
        defer {
            x.process.stop()
            tiktok.process.stop()
        }
        let batches = Destination.platforms.flatMap { destination in
            [harness.batch(destination, "big", .add, Array(0..<1_234)), harness.batch(destination, "small", .add, Array(0..<20))]
        }
        try await harness.send(batches)
        let records = try await tail.wait(for: "one result per batch") { Uploaders.results($0, of: batches).count >= batches.count }
        await tail.close()
        #expect(Uploaders.results(records, of: batches).allSatisfy { $0.status == .succeeded })

        let sizes = try await Self.sizes(harness.environment, harness)
        #expect(sizes == [
            "\(harness.xConnection)/big-\(harness.suffix)": "1200", "\(harness.xConnection)/small-\(harness.suffix)": "0 TOO_SMALL",
            "\(harness.tiktokConnection)/big-\(harness.suffix)": "1234", "\(harness.tiktokConnection)/small-\(harness.suffix)": "20 NOT_VALID",
        ])

        var withoutConfig = harness.environment
        withoutConfig["COHORTSYNC_CONFIG"] = nil
        let unasked = try await Self.sizes(withoutConfig, harness)
        #expect(unasked.count == 4)
        #expect(unasked.values.allSatisfy { $0 == "-" }, "\(unasked)")

        var withoutToken = harness.environment
        withoutToken["TT"] = nil
        let partly = try await Self.sizes(withoutToken, harness)
        #expect(partly["\(harness.xConnection)/big-\(harness.suffix)"] == "1200", "the X connection is still asked")
        #expect(partly["\(harness.tiktokConnection)/big-\(harness.suffix)"]?.hasPrefix("no credentials") == true, "\(partly)")
    }

    /// `cohortsync status --json` run with `environment`: the harness's rows' `destination_size`, keyed
    /// `connection/audience`.
    static func sizes(_ environment: [String: String], _ harness: UploadHarness) async throws -> [String: String] {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync"), ["status", "--json"], environment: environment)
        // status reads whole topics of the shared broker, which other suites fill at the same time.
        #expect(await child.waitForExit(timeout: .seconds(240)) == 0, "\(child.stderr)")
        let rows = try OperatorCLITests.rows(fromJSON: child.stdout).filter { [harness.xConnection, harness.tiktokConnection].contains($0["connection"]) }
        return Dictionary(rows.map { ("\($0["connection"] ?? "")/\($0["audience"] ?? "")", $0["destination_size"] ?? "missing") }, uniquingKeysWith: { first, _ in first })
    }
}
}
