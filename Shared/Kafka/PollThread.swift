import Foundation
import Synchronization

/// A dedicated OS thread that runs a blocking poll step until stopped.
///
/// librdkafka's poll calls block; running them here keeps them off Swift's cooperative thread pool.
final class PollThread: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let finished = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Starts a thread that calls `step` until `stop()`; `step` should block for at most ~100 ms.
    /// `finish` runs once on the thread after the last step.
    init(name: String, step: @escaping @Sendable () -> Void, finish: @escaping @Sendable () -> Void = {}) {
        let thread = Thread { [self] in
            while !stopRequested.load(ordering: .acquiring) {
                step()
            }
            finish()
            let waiters = finished.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Whether `stop()` was called.
    var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Asks the thread to end after its current step.
    func stop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// Waits until the thread ran `finish` and ended.
    func join() async {
        await withCheckedContinuation { continuation in
            let done = finished.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
