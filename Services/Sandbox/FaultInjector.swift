import Synchronization
import Wire

/// What to do to one request instead of, or before, answering it normally.
enum InjectedFault: Sendable, Equatable {
    case dropConnection
    /// Acted on, then the connection closed without the answer.
    case loseAnswer
    case tokenRevoked
    case rateLimited
    /// X: an HTTP status; TikTok: a business code.
    case error(Int)
}

/// Holds the fault plans and decides, per request, which fault (if any) applies.
final class FaultInjector: Sendable {
    private let plans: Mutex<[Destination: FaultPlan]>
    private let random: @Sendable () -> Double

    /// - Parameter random: a uniform number in 0..<1 per call; tests pass a fixed sequence.
    init(plans: [Destination: FaultPlan] = [:], random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.plans = Mutex(plans)
        self.random = random
    }

    func plan(for api: Destination) -> FaultPlan {
        plans.withLock { $0[api] ?? FaultPlan() }
    }

    func set(_ plan: FaultPlan, for api: Destination) {
        plans.withLock { $0[api] = plan }
    }

    /// The added latency and the fault for one request; consumes one unit of a rate-limit burst.
    func decide(for api: Destination) -> (latencyMilliseconds: Int, fault: InjectedFault?) {
        plans.withLock { plans in
            var plan = plans[api] ?? FaultPlan()
            defer { plans[api] = plan }
            var latency = plan.latencyMilliseconds
            if plan.latencyJitterMilliseconds > 0 {
                latency += min(Int(random() * Double(plan.latencyJitterMilliseconds + 1)), plan.latencyJitterMilliseconds)
            }
            if plan.dropRate > 0, random() < plan.dropRate { return (latency, .dropConnection) }
            if plan.tokenRevoked { return (latency, .tokenRevoked) }
            if plan.rateLimitBurst > 0 {
                plan.rateLimitBurst -= 1
                return (latency, .rateLimited)
            }
            for (code, probability) in plan.errors.sorted(by: { $0.key < $1.key }) where random() < probability {
                return (latency, .error(code))
            }
            // Last: a lost answer is of a request the sandbox acts on as if no fault applied.
            if plan.lostAnswerBurst > 0 {
                plan.lostAnswerBurst -= 1
                return (latency, .loseAnswer)
            }
            if plan.lostAnswerRate > 0, random() < plan.lostAnswerRate { return (latency, .loseAnswer) }
            return (latency, nil)
        }
    }

    func reset() {
        plans.withLock { $0 = [:] }
    }
}
