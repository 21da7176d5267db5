import Foundation
import Synchronization

/// Keeps the requests of one (account, endpoint) under its budget, and as close to it as is safe.
///
/// A sliding log of the last `budget` send times: a request may go when the oldest of them left the window.
/// Any interval of one window then holds at most `budget` requests, so however the server aligns its fixed
/// windows it never counts more; the window is lengthened by `margin` for the spread between send and
/// arrival times. In steady state that is `window / (window + margin)` of the budget (98 % for 60 s + 1 s).
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
    }

    private struct State {
        var sent: [ContinuousClock.Instant] = []
        var next = 0
        var heldUntil: ContinuousClock.Instant?
    }

    public let budget: Budget
    private let state = Mutex(State())

    public init(budget: Budget) {
        self.budget = budget
    }

    /// Waits until a request may go and counts it as sent.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    public func acquire() async throws {
        while true {
            let wait = state.withLock { state -> Duration? in
                let now = ContinuousClock.now
                if let held = state.heldUntil, held > now { return held - now }
                state.heldUntil = nil
                if state.sent.count < budget.requests {
                    state.sent.append(now)
                    return nil
                }
                let free = state.sent[state.next] + budget.window + budget.margin
                if free > now { return free - now }
                state.sent[state.next] = now
                state.next = (state.next + 1) % budget.requests
                return nil
            }
            guard let wait else { return }
            try await Task.sleep(for: wait)
        }
    }

    /// Holds every request for `duration` from now (a 429, or a spent window with its reset time).
    public func hold(for duration: Duration) {
        let until = ContinuousClock.now + duration
        state.withLock { state in
            if state.heldUntil.map({ $0 < until }) ?? true { state.heldUntil = until }
        }
    }

    /// Reads X's `x-rate-limit-remaining` and `x-rate-limit-reset`: a spent window holds requests until its reset.
    /// - Parameter now: seconds since the epoch.
    public func observe(_ response: IncomingResponse, now: Double = Date().timeIntervalSince1970) {
        guard let remaining = response.header("x-rate-limit-remaining").flatMap(Int.init), remaining <= 0,
            let reset = response.header("x-rate-limit-reset").flatMap(Double.init)
        else { return }
        hold(for: .milliseconds(Int64(max(reset - now, 0) * 1000)))
    }
}
