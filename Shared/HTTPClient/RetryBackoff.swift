import Foundation

/// How long to wait before the next attempt: exponential backoff with full jitter, unless the server said
/// when to come back.
///
/// Full jitter (a uniform wait between zero and the exponential ceiling) spreads the retries of many
/// replicas that failed together, so they do not return in lockstep and fail together again.
public struct RetryBackoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .milliseconds(250), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling of the wait after `attempt` failed attempts (1 after the first).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)
        let exponential = base * (1 << doublings)
        return exponential < cap ? exponential : cap
    }

    /// A wait drawn uniformly from zero to the ceiling of `attempt`.
    public func delay<G: RandomNumberGenerator>(afterAttempt attempt: Int, using generator: inout G) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt)
        let nanoseconds = Int64(ceiling.components.seconds) * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(nanoseconds, 0), using: &generator))
    }

    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }

    /// When the server asked to be called again: `Retry-After` in seconds, else X's `x-rate-limit-reset`
    /// (epoch seconds) when the window is spent; nil when the answer says neither.
    /// - Parameter now: seconds since the epoch.
    public static func serverDelay(_ response: IncomingResponse, now: Double = Date().timeIntervalSince1970) -> Duration? {
        if let retryAfter = response.header("retry-after").flatMap(Double.init), retryAfter.isFinite, retryAfter >= 0 {
            return duration(seconds: retryAfter)
        }
        if response.status == 429, let reset = response.header("x-rate-limit-reset").flatMap(Double.init), reset.isFinite {
            return duration(seconds: reset - now)
        }
        return nil
    }

    /// A server's delay in seconds as a duration, negative as zero and anything over `RequestRateLimiter.maximumHold`
    /// (or not a number) as that maximum: a bad header must neither trap nor hold a connection for days.
    public static func duration(seconds: Double) -> Duration {
        let limit = RequestRateLimiter.maximumHold
        guard seconds.isFinite, seconds < Double(limit.components.seconds) else { return limit }
        return .milliseconds(Int64(max(seconds, 0) * 1000))
    }
}
