import Destinations
import Observability

/// A connection the uploader sends to: its API client and the credentials that client reads.
public struct UploadConnection: Sendable {
    public let id: String
    public let api: any AudienceAPI
    public let credentials: CredentialSource

    public init(id: String, api: any AudienceAPI, credentials: CredentialSource) {
        self.id = id
        self.api = api
        self.credentials = credentials
    }
}

/// How one call ended after its retries and pauses.
enum Settled<Value: Sendable>: Sendable {
    case done(Value)
    case partial(Value, refused: [RefusedItem])
    /// Refused for good, or still failing after the last attempt; `reason` names which for the DLQ.
    case failed(DestinationFailure, reason: String)
}

/// Runs one destination call to a settled outcome: transient failures retried with backoff (the server's
/// named time first, else full jitter), a refused credential waited out (the connection pauses until the
/// credential changes or the probe interval passes, never counting attempts, never dropping the batch).
struct CallRunner: Sendable {
    let settings: UploadSettings
    let metrics: UploadMetrics
    let logger: Logger

    /// - Parameter attempts: increased by each call made.
    /// - Throws: `CancellationError` when the task is cancelled (a stop, a revocation) while waiting.
    func run<Value: Sendable>(
        _ connection: UploadConnection, endpoint: String, attempts: inout Int, _ call: () async throws -> DestinationOutcome<Value>
    ) async throws -> Settled<Value> {
        var failedHere = 0
        var rateLimitedHere = 0
        var paused = false
        defer { if paused { metrics.paused(connection.id, false) } }
        while true {
            try Task.checkCancellation()
            attempts += 1
            let outcome = try await call()
            if paused, !Self.isCredentialRefusal(outcome) {
                paused = false
                metrics.paused(connection.id, false)
                logger.info("the destination took the credential again; the connection resumes", [("connection", .string(connection.id))])
            }
            switch outcome {
            case .done(let value):
                metrics.request(connection.id, endpoint, outcome: "done")
                return .done(value)
            case .partial(let value, let refused):
                metrics.request(connection.id, endpoint, outcome: "partial")
                return .partial(value, refused: refused)
            case .permanent(let failure):
                metrics.request(connection.id, endpoint, outcome: "permanent")
                return .failed(failure, reason: "refused-by-destination")
            case .retriable(let failure, let after):
                metrics.request(connection.id, endpoint, outcome: "retriable")
                let rateLimited = Self.isRateLimit(failure)
                metrics.retry(connection.id, rateLimited: rateLimited)
                if rateLimited {
                    // Not a failure of this batch: wait as asked (or longer each time) and never give up on it.
                    rateLimitedHere += 1
                    // Never less than the base: a `Retry-After: 0` or a reset already past must not become a tight loop.
                    let delay = max(after ?? settings.rateLimitBackoff.delay(afterAttempt: rateLimitedHere), settings.rateLimitBackoff.base)
                    logger.warning(
                        "destination rate limit; waiting", [("connection", .string(connection.id)), ("endpoint", .string(endpoint)),
                                                            ("code", .string(failure.code)), ("times", .integer(rateLimitedHere)), ("retry_in_seconds", .double(delay.inSeconds))])
                    try await Task.sleep(for: delay)
                    continue
                }
                failedHere += 1
                guard failedHere < settings.maxAttempts else {
                    return .failed(
                        DestinationFailure(code: failure.code, message: "still failing after \(failedHere) attempts: \(failure.message)", httpStatus: failure.httpStatus),
                        reason: "retries-exhausted")
                }
                let delay = after ?? settings.backoff.delay(afterAttempt: failedHere)
                logger.warning(
                    "destination call failed; retrying", [("connection", .string(connection.id)), ("endpoint", .string(endpoint)),
                                                         ("code", .string(failure.code)), ("attempt", .integer(failedHere)), ("retry_in_seconds", .double(delay.inSeconds))])
                try await Task.sleep(for: delay)
            case .credentialRevoked(let failure):
                metrics.request(connection.id, endpoint, outcome: "credential_refused")
                if !paused {
                    paused = true
                    // Logged once per connection, by the first of its batches to pause.
                    if metrics.paused(connection.id, true) {
                        logger.error(
                            "the destination refused the connection's credential; its uploads wait until the credential changes or the probe interval passes",
                            [("connection", .string(connection.id)), ("code", .string(failure.code)), ("probe_seconds", .double(settings.pauseProbe.inSeconds))])
                    }
                }
                try await waitForCredential(connection)
            }
        }
    }

    /// X's 429 `TOO_MANY_REQUESTS` and TikTok's 40100.
    static func isRateLimit(_ failure: DestinationFailure) -> Bool {
        failure.code == "TOO_MANY_REQUESTS" || failure.code == "40100" || failure.httpStatus == 429
    }

    private static func isCredentialRefusal<Value>(_ outcome: DestinationOutcome<Value>) -> Bool {
        if case .credentialRevoked = outcome { return true }
        return false
    }

    /// Returns when the credential changed or the probe interval passed.
    private func waitForCredential(_ connection: UploadConnection) async throws {
        let deadline = ContinuousClock.now + settings.pauseProbe
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: min(settings.credentialCheck, deadline - ContinuousClock.now))
            if connection.credentials.reload() {
                logger.info("the connection's credential changed; trying it", [("connection", .string(connection.id))])
                return
            }
        }
    }
}
