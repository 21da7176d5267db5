import Synchronization

/// Parks one caller until a batch's outcome is known, whichever comes first: the outcome or the wait.
final class DeliveryWaiter: Sendable {
    private struct State {
        var outcome: Result<Void, KafkaError>?
        var waiter: CheckedContinuation<Result<Void, KafkaError>, Never>?
    }

    private let state = Mutex(State())

    func finish(_ outcome: Result<Void, KafkaError>) {
        let waiter = state.withLock { state in
            state.outcome = outcome
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: outcome)
    }

    func wait() async -> Result<Void, KafkaError> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.outcome == nil { state.waiter = continuation }
                return state.outcome
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
