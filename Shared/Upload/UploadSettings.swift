import HTTPClient

/// How an uploader retries, pauses and spreads its work; from its command line.
public struct UploadSettings: Sendable {
    /// Failed attempts of one call before its batch is dead-lettered as `retries-exhausted` (replayable).
    /// A rate-limit answer is not one: the destination asked to slow down, which says nothing about the batch.
    public var maxAttempts: Int
    public var backoff: RetryBackoff
    /// The wait after a rate-limit answer that names no time (TikTok's 40100): longer than a failure's, and
    /// without a count, so a burst of 429s cannot exhaust a batch's attempts.
    public var rateLimitBackoff: RetryBackoff
    /// How long a connection whose credential was refused waits before trying it again, unless the
    /// credential changes first.
    public var pauseProbe: Duration
    /// How often a paused connection re-reads its credential to see whether it changed.
    public var credentialCheck: Duration
    /// Batches queued for one partition before the consumer pauses it (resumed at half).
    public var maxQueuedPerPartition: Int
    /// The bound on every record the uploader writes: dead letters are split to stay under it.
    public var recordBytes: Int

    public init(
        maxAttempts: Int = 8, backoff: RetryBackoff = RetryBackoff(), rateLimitBackoff: RetryBackoff = RetryBackoff(base: .seconds(1), cap: .seconds(60)),
        pauseProbe: Duration = .seconds(60), credentialCheck: Duration = .seconds(1), maxQueuedPerPartition: Int = 64, recordBytes: Int = 1_000_000
    ) {
        self.maxAttempts = max(maxAttempts, 1)
        self.backoff = backoff
        self.rateLimitBackoff = rateLimitBackoff
        self.pauseProbe = pauseProbe
        self.credentialCheck = credentialCheck
        self.maxQueuedPerPartition = max(maxQueuedPerPartition, 2)
        self.recordBytes = recordBytes
    }
}
