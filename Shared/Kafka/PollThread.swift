import Foundation
import Synchronization

/// A dedicated OS thread that runs a blocking poll step until stopped.
///
/// librdkafka's poll calls block; running them here keeps them off Swift's cooperative thread pool.
final class PollThread: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let finished = Mutex<(done: Bool, waiters: [@Sendable () -> Void])>((false, []))

    /// Starts a thread that calls `step` until `stop()`; `step` should block for at most ~100 ms.
    /// `finish` runs once on the thread after the last step.
    init(name: String, step: @escaping @Sendable () -> Void, finish: @escaping @Sendable () -> Void = {}) {
        let thread = Thread { [self] in
            while !stopRequested.load(ordering: .acquiring) {
                step()
            }
            finish()
            let waiters = finished.withLock { state -> [@Sendable () -> Void] in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter() }
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

    /// Waits until the thread ran `finish` and ended, or until `timeout`; true if it ended.
    @discardableResult
    func join(timeout: Duration? = nil) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = ResumeOnce(continuation)
            let done = finished.withLock { state in
                if !state.done { state.waiters.append { once.resume(true) } }
                return state.done
            }
            if done {
                once.resume(true)
            } else if let timeout {
                let timer = Task {
                    do {
                        try await Task.sleep(for: timeout)
                    } catch {
                        return
                    }
                    once.resume(false)
                }
                // The thread ending first cancels the timer, so it does not sleep out the timeout for nothing.
                finished.withLock { state in
                    if state.done { timer.cancel() } else { state.waiters.append { timer.cancel() } }
                }
            }
        }
    }
}

/// Resumes a continuation with the first value given; later ones are ignored.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}

/// Runs a blocking librdkafka call on a thread of its own, so an async caller never blocks a thread of the
/// cooperative pool for a broker round trip.
func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}
