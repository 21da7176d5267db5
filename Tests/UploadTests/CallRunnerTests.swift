import Config
import Destinations
import Foundation
import HTTPClient
import Observability
import Synchronization
import TestSupport
import Testing
import Wire

@testable import Upload

/// How one destination call is retried: failures count toward `--max-attempts`, rate limits do not.
@Suite("Upload: retrying a call")
struct CallRunnerTests {
    /// A destination that is never called: the runner only sees the outcomes the test scripts.
    struct Unused: AudienceAPI {
        var destination: Destination { .tiktok }
        var maxNameLength: Int { 128 }
        func reserveCreate() async throws {}
        func createAudience(named name: String, tag: String) async throws -> DestinationOutcome<String> { .done("") }
        func findCreated(named name: String, tag: String, since: Int64, excluding: Set<String>) async throws -> DestinationOutcome<String?> { .done(nil) }
        func upload(_ operation: BatchOperation, users: [BatchUser], audience: String) async throws -> DestinationOutcome<Int> { .done(0) }
        func deleteAudience(_ audience: String) async throws -> DestinationOutcome<Void> { .done(()) }
        func reportedSize(of audience: String) async throws -> DestinationOutcome<ReportedAudienceSize> { .done(ReportedAudienceSize(size: 0, targetable: false)) }
    }

    static func runner(maxAttempts: Int) throws -> (CallRunner, UploadConnection) {
        let config = try ConfigParser.parse(Data(TestConfigs.standard.utf8))
        let connection = try #require(config.connections.first { $0.id == "tiktok-eu" })
        let credentials = try CredentialSource(connection: connection) { ["TT": "token"] }
        let fast = RetryBackoff(base: .milliseconds(1), cap: .milliseconds(2))
        let settings = UploadSettings(maxAttempts: maxAttempts, backoff: fast, rateLimitBackoff: fast)
        let runner = CallRunner(settings: settings, metrics: UploadMetrics(registry: MetricsRegistry()), logger: Logger(stage: "test", minimumLevel: .error))
        return (runner, UploadConnection(id: connection.id, api: Unused(), credentials: credentials))
    }

    /// Runs a call whose answers are `script`, in order; returns how it settled and the calls made.
    static func run(_ script: [DestinationOutcome<Int>], maxAttempts: Int) async throws -> (Settled<Int>, Int) {
        let (runner, connection) = try runner(maxAttempts: maxAttempts)
        let next = Mutex(0)
        var attempts = 0
        let settled = try await runner.run(connection, endpoint: "users", attempts: &attempts) {
            let index = next.withLock { index in
                defer { index += 1 }
                return index
            }
            return script[min(index, script.count - 1)]
        }
        return (settled, attempts)
    }

    static let serverError = DestinationOutcome<Int>.retriable(DestinationFailure(code: "50000", message: "internal"), after: nil)
    static let rateLimited = DestinationOutcome<Int>.retriable(DestinationFailure(code: "40100", message: "too many requests"), after: nil)

    @Test("twenty rate-limit answers in a row, then success: the batch is uploaded, not dead-lettered")
    func rateLimitsDoNotExhaust() async throws {
        let (settled, attempts) = try await Self.run(Array(repeating: Self.rateLimited, count: 20) + [.done(7)], maxAttempts: 3)
        guard case .done(let value) = settled else {
            Issue.record("expected done, got \(settled)")
            return
        }
        #expect(value == 7)
        #expect(attempts == 21)
    }

    @Test("failures still count: the third server error with --max-attempts 3 dead-letters the batch, rate limits between them or not")
    func failuresExhaust() async throws {
        let (settled, attempts) = try await Self.run([Self.serverError, Self.rateLimited, Self.serverError, Self.rateLimited, Self.serverError, .done(1)], maxAttempts: 3)
        guard case .failed(let failure, let reason) = settled else {
            Issue.record("expected failed, got \(settled)")
            return
        }
        #expect(reason == "retries-exhausted")
        #expect(failure.code == "50000")
        #expect(attempts == 5)
    }
}
