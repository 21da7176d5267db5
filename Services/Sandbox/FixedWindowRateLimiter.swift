import Synchronization

/// Requests allowed per key in fixed windows of time, the way X reports its limits
/// (`x-rate-limit-limit`, `-remaining`, `-reset` in epoch seconds).
final class FixedWindowRateLimiter: Sendable {
    /// The outcome of one request against one limit.
    struct Decision: Sendable, Equatable {
        let allowed: Bool
        let limit: Int
        let remaining: Int
        /// Epoch seconds when the window resets.
        let resetEpochSeconds: Int64
    }

    let limit: Int
    let windowSeconds: Int64
    private let windows = Mutex<[String: (start: Int64, used: Int)]>([:])

    init(limit: Int, windowSeconds: Int64) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    /// Counts one request for `key` at `now` (epoch seconds).
    func take(_ key: String, now: Int64) -> Decision {
        windows.withLock { windows in
            let start = now - now % windowSeconds
            var window = windows[key] ?? (start, 0)
            if window.start != start { window = (start, 0) }
            let allowed = window.used < limit
            if allowed { window.used += 1 }
            windows[key] = window
            return Decision(allowed: allowed, limit: limit, remaining: max(limit - window.used, 0), resetEpochSeconds: start + windowSeconds)
        }
    }

    func reset() {
        windows.withLock { $0 = [:] }
    }
}
