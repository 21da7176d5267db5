import Synchronization

/// The acknowledgement of one produced record, which arrives later from the producer's poll thread.
///
/// Await `acknowledged()`, or register `whenComplete` to react without a task per record (the offset tracker
/// does this for every input record of a stage).
public final class PendingDelivery: Sendable {
    private enum State {
        case pending(continuations: [CheckedContinuation<DeliveryReport, any Error>], callbacks: [@Sendable (Result<DeliveryReport, KafkaError>) -> Void])
        case done(Result<DeliveryReport, KafkaError>)
    }

    private let state = Mutex(State.pending(continuations: [], callbacks: []))

    init() {}

    /// A delivery that already has its outcome, for records that failed before reaching librdkafka.
    init(result: Result<DeliveryReport, KafkaError>) {
        state.withLock { $0 = .done(result) }
    }

    /// The outcome, if it is known yet.
    public var result: Result<DeliveryReport, KafkaError>? {
        state.withLock { state in
            if case .done(let result) = state { return result }
            return nil
        }
    }

    /// Waits until the broker acknowledged the record (`acks=all`) or librdkafka gave up on it.
    /// - Throws: `KafkaError` with code `.delivery` when the record was not stored.
    public func acknowledged() async throws -> DeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            let finished: Result<DeliveryReport, KafkaError>? = state.withLock { state in
                switch state {
                case .done(let result):
                    return result
                case .pending(var continuations, let callbacks):
                    continuations.append(continuation)
                    state = .pending(continuations: continuations, callbacks: callbacks)
                    return nil
                }
            }
            if let finished { continuation.resume(with: finished.mapError { $0 as any Error }) }
        }
    }

    /// Calls `callback` once with the outcome: at once if known, otherwise on the producer's poll thread.
    /// The callback must be quick and must not block.
    public func whenComplete(_ callback: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        let finished: Result<DeliveryReport, KafkaError>? = state.withLock { state in
            switch state {
            case .done(let result):
                return result
            case .pending(let continuations, var callbacks):
                callbacks.append(callback)
                state = .pending(continuations: continuations, callbacks: callbacks)
                return nil
            }
        }
        if let finished { callback(finished) }
    }

    func complete(_ result: Result<DeliveryReport, KafkaError>) {
        let waiting = state.withLock { state -> ([CheckedContinuation<DeliveryReport, any Error>], [@Sendable (Result<DeliveryReport, KafkaError>) -> Void]) in
            guard case .pending(let continuations, let callbacks) = state else { return ([], []) }
            state = .done(result)
            return (continuations, callbacks)
        }
        for callback in waiting.1 { callback(result) }
        for continuation in waiting.0 { continuation.resume(with: result.mapError { $0 as any Error }) }
    }
}
