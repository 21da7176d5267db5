import Foundation
import Synchronization

/// Keeps the requests of one (account, endpoint) under its budget, and as close to it as is safe.
///
/// Requests are paced one interval apart, the interval being `(window + margin) / budget`: each caller
/// reserves the next free send time and waits for it. Any interval of one window then holds fewer than
/// `budget` requests, however the server aligns its fixed windows, and the margin absorbs the spread between
/// send and arrival times. In steady state that is `window / (window + margin)` of the budget (98 % for
/// 60 s + 1 s), spread evenly rather than spent in a burst at the start of each window.
///
/// It adapts to the server's own count: an answer saying the window is spent (`x-rate-limit-remaining: 0`)
/// or a 429 holds every request until the reset the server names.
public final class RequestRateLimiter: Sendable {
    public struct Budget: Sendable, Equatable {
        public var requests: Int
        public var window: Duration
        public var margin: Duration

        public init(requests: Int, window: Duration = .seconds(60), margin: Duration = .seconds(1)) {
            self.requests = max(requests, 1)
            self.window = window
            self.margin = margin
        }

        /// The time between two sends.
        public var interval: Duration { (window + margin) / requests }
    }

    private struct State {
        /// The earliest time the next request may go.
        var next: ContinuousClock.Instant?
        /// Until when the server asked for no request at all.
        var heldUntil: ContinuousClock.Instant?
    }

    /// The longest hold a server's answer may impose; a larger or unreadable reset time is taken as this.
    public static let maximumHold = Duration.seconds(900)

    public let budget: Budget
    private let state = Mutex(State())

    public init(budget: Budget) {
        self.budget = budget
    }

    /// Waits until this request's send time and counts it as sent. A hold that began while it waited is
    /// waited out too, and then the request takes a send time like any other: the requests that waited out
    /// a hold go paced, not in one burst the server would refuse again.
    /// - Throws: `CancellationError` when the task is cancelled while waiting (its send time is then unused).
    public func acquire() async throws {
        while true {
            let (wait, isHold) = state.withLock { state -> (ContinuousClock.Instant?, Bool) in
                let now = ContinuousClock.now
                if let held = state.heldUntil, held > now { return (held, true) }
                let slot = max(now, state.next ?? now)
                state.next = slot + budget.interval
                return (slot > now ? slot : nil, false)
            }
            guard let wait else { return }
            try await Task.sleep(until: wait, clock: .continuous)
            if isHold { continue }
            if state.withLock({ $0.heldUntil.map { $0 <= ContinuousClock.now } ?? true }) { return }
        }
    }

    /// Holds every request for `duration` from now (a 429, or a spent window with its reset time), at most
    /// `maximumHold`.
    public func hold(for duration: Duration) {
        let until = ContinuousClock.now + min(max(duration, .zero), Self.maximumHold)
        state.withLock { state in
            if state.heldUntil.map({ $0 < until }) ?? true { state.heldUntil = until }
        }
    }

    /// Reads X's `x-rate-limit-remaining` and `x-rate-limit-reset`: a spent window holds requests until its reset.
    /// - Parameter now: seconds since the epoch.
    public func observe(_ response: IncomingResponse, now: Double = Date().timeIntervalSince1970) {
        guard let remaining = response.header("x-rate-limit-remaining").flatMap(Int.init), remaining <= 0,
            let reset = response.header("x-rate-limit-reset").flatMap(Double.init), reset.isFinite
        else { return }
        hold(for: RetryBackoff.duration(seconds: reset - now))
    }
}
