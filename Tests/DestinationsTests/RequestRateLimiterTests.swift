import HTTPClient
import Testing

/// The client-side rate limiter: paced sends, holds the server asks for, and no burst when a hold ends.
@Suite("Rate limiter: holds and pacing")
struct RequestRateLimiterTests {
    @Test("requests that waited out a hold go one interval apart, not in one burst")
    func pacedAfterHold() async throws {
        // One send every 100 ms.
        let limiter = RequestRateLimiter(budget: .init(requests: 10, window: .seconds(1), margin: .zero))
        limiter.hold(for: .milliseconds(300))
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { try await limiter.acquire() } }
            try await group.waitForAll()
        }
        // The hold, then five sends 100 ms apart: the last no earlier than 300 + 400 ms (a burst ends at 300).
        #expect(ContinuousClock.now - started >= .milliseconds(650))
    }

    @Test("a spent window whose reset time is not a number holds nothing", arguments: ["nan", "inf", "-inf", "soon"])
    func unreadableReset(_ reset: String) async throws {
        let limiter = RequestRateLimiter(budget: .init(requests: 1_000))
        limiter.observe(IncomingResponse(status: 200, headers: ["x-rate-limit-remaining": "0", "x-rate-limit-reset": reset]))
        // Raced against a bound: a 15-minute hold would otherwise keep this test waiting.
        let acquiredInTime = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await limiter.acquire()
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(acquiredInTime)
    }
}
