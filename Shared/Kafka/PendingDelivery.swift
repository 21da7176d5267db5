import Synchronization

/// The acknowledgement of one record sent on its own (`KafkaProducer.send(_:)`, for tools and tests), which
/// arrives later from the producer's poll thread. Stages send batches with one `BatchCompletion` instead.
public final class PendingDelivery: Sendable {
    private enum State {
        case pending([CheckedContinuation<DeliveryReport, any Error>])
        case done(Result<DeliveryReport, KafkaError>)
    }

    private let state = Mutex(State.pending([]))

    init() {}

    /// Waits until the broker acknowledged the record (`acks=all`) or librdkafka gave up on it.
    /// - Throws: `KafkaError` with code `.delivery` when the record was not stored.
    public func acknowledged() async throws -> DeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            let finished: Result<DeliveryReport, KafkaError>? = state.withLock { state in
                switch state {
                case .done(let result):
                    return result
                case .pending(var continuations):
                    continuations.append(continuation)
                    state = .pending(continuations)
                    return nil
                }
            }
            if let finished { continuation.resume(with: finished.mapError { $0 as any Error }) }
        }
    }

    func complete(_ result: Result<DeliveryReport, KafkaError>) {
        let waiting = state.withLock { state -> [CheckedContinuation<DeliveryReport, any Error>] in
            guard case .pending(let continuations) = state else { return [] }
            state = .done(result)
            return continuations
        }
        for continuation in waiting { continuation.resume(with: result.mapError { $0 as any Error }) }
    }
}
