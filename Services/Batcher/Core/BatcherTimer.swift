import Runtime
import Synchronization

/// Runs the engine's timer in a `ServiceGroup`: due flushes, the X refresh sweep and the gauges.
public final class BatcherTimer: Service {
    public let name = "batcher-timer"
    private let engine: BatcherEngine
    private let interval: Duration
    private let stopped = Atomic(false)

    public init(engine: BatcherEngine, interval: Duration) {
        self.engine = engine
        self.interval = interval
    }

    public func run() async throws {
        while !stopped.load(ordering: .acquiring) {
            engine.tick()
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    /// The last flushes are the processing loop's to start (at its stop), not the timer's.
    public func shutdown() async {
        stopped.store(true, ordering: .releasing)
    }
}
