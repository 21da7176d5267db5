import Synchronization

/// Resumes one waiting task with whichever of several racing outcomes comes first.
final class FirstOutcome: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Bool, Never>?, outcome: Bool?)>((nil, nil))

    func install(_ continuation: CheckedContinuation<Bool, Never>) {
        let ready = state.withLock { state -> Bool? in
            if state.outcome == nil { state.continuation = continuation }
            return state.outcome
        }
        if let ready { continuation.resume(returning: ready) }
    }

    func resume(_ outcome: Bool) {
        let waiting = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.continuation = nil }
            return state.continuation
        }
        waiting?.resume(returning: outcome)
    }
}
