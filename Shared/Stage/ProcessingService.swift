import Kafka
import Runtime

/// A `ProcessingLoop` with its handler, runnable in a `ServiceGroup`: SIGTERM stops it gracefully.
public final class ProcessingService: Service {
    public let name: String
    private let loop: ProcessingLoop
    private let hooks: ProcessingLoop.PartitionHooks
    private let handler: ProcessingLoop.Handler

    public init(name: String, loop: ProcessingLoop, hooks: ProcessingLoop.PartitionHooks = .init(), handler: @escaping ProcessingLoop.Handler) {
        self.name = name
        self.loop = loop
        self.hooks = hooks
        self.handler = handler
    }

    public func run() async throws {
        try await loop.run(hooks: hooks, handler)
    }

    public func shutdown() async {
        loop.stop()
    }
}
