import Foundation
import Observability
import Synchronization

/// Runs an executable's services together and shuts them down in reverse start order.
///
/// A SIGTERM or SIGINT, or any service ending (by return or error), begins shutdown of all. If the
/// services have not returned within `gracePeriod`, the process exits with status 1 rather than
/// overrun the orchestrator's grace period and be killed mid-commit.
public struct ServiceGroup: Sendable {
    private let services: [any Service]
    private let gracePeriod: Duration
    private let logger: Logger

    /// - Parameter services: in start order; the HTTP listener usually comes first so it is stopped last.
    public init(services: [any Service], gracePeriod: Duration, logger: Logger) {
        self.services = services
        self.gracePeriod = gracePeriod
        self.logger = logger
    }

    /// Runs until every service returned. Rethrows the first service error after all have stopped.
    public func run() async throws {
        let watcher = SignalWatcher()
        let signals = watcher.signals
        let coordinator = ShutdownCoordinator(services: services, gracePeriod: gracePeriod, logger: logger)
        let logger = logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await number in signals {
                    await coordinator.begin(reason: number == SIGTERM ? "SIGTERM" : "SIGINT")
                    return
                }
            }
            for (index, service) in services.enumerated() {
                group.addTask {
                    do {
                        logger.info("service started", [("service", .string(service.name))])
                        try await service.run()
                        logger.info("service stopped", [("service", .string(service.name))])
                        coordinator.markStopped(index)
                        await coordinator.begin(reason: "\(service.name) finished")
                    } catch {
                        logger.error("service failed", [("service", .string(service.name)), ("error", .string(String(describing: error)))])
                        coordinator.record(error)
                        coordinator.markStopped(index)
                        await coordinator.begin(reason: "\(service.name) failed")
                    }
                }
            }
            // Wait for the services; the signal task is cancelled once they are all done.
            var remaining = services.count
            while remaining > 0, await group.next() != nil {
                remaining -= 1
            }
            group.cancelAll()
        }
        withExtendedLifetime(watcher) {}
        if let error = coordinator.firstError { throw error }
    }
}

/// Begins shutdown once, stops services one at a time in reverse order, arms the grace-period deadline
/// and keeps the first service error.
private final class ShutdownCoordinator: Sendable {
    private let services: [any Service]
    private let gracePeriod: Duration
    private let logger: Logger
    private let begun = Atomic(false)
    private let error = Mutex<(any Error)?>(nil)
    private let stopped = Mutex<Set<Int>>([])

    init(services: [any Service], gracePeriod: Duration, logger: Logger) {
        self.services = services
        self.gracePeriod = gracePeriod
        self.logger = logger
    }

    var firstError: (any Error)? { error.withLock { $0 } }

    func markStopped(_ index: Int) {
        _ = stopped.withLock { $0.insert(index) }
    }

    func record(_ failure: any Error) {
        error.withLock { if $0 == nil { $0 = failure } }
    }

    func begin(reason: String) async {
        guard !begun.exchange(true, ordering: .acquiringAndReleasing) else { return }
        logger.info("shutting down", [("reason", .string(reason)), ("grace_seconds", .double(gracePeriod.inSeconds))])
        let seconds = gracePeriod.inSeconds
        let logger = logger
        // A plain thread, so the deadline holds even if every cooperative thread is stuck.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            logger.error("services did not stop within the grace period; exiting")
            exit(1)
        }
        // Each service finishes before the one started before it is asked to stop: the HTTP listener,
        // started first, keeps answering probes and serving metrics until the stage has committed.
        for (index, service) in services.enumerated().reversed() {
            await service.shutdown()
            while !stopped.withLock({ $0.contains(index) }) {
                do {
                    try await Task.sleep(for: .milliseconds(10))
                } catch {
                    return
                }
            }
        }
    }
}
