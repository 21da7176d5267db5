import Observability
import Synchronization

/// An `HTTPServer` run as a `Service`: listens from `run()` until `shutdown()`.
public final class HTTPService: Service {
    public let name: String
    private let host: String
    private let requestedPort: UInt16
    private let threads: Int
    private let maxBodyBytes: Int
    private let maxBufferedBytes: Int?
    private let handler: HTTPServer.Handler
    private let logger: Logger
    private let stopped = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    public init(
        name: String = "http", host: String, port: UInt16, threads: Int = 2, maxBodyBytes: Int = 16 << 20, maxBufferedBytes: Int? = nil, logger: Logger,
        handler: @escaping HTTPServer.Handler
    ) {
        self.name = name
        self.host = host
        self.requestedPort = port
        self.threads = threads
        self.maxBodyBytes = maxBodyBytes
        self.maxBufferedBytes = maxBufferedBytes
        self.handler = handler
        self.logger = logger
    }

    /// Listens until `shutdown()`; logs `http listening` with the bound port (useful with port 0).
    /// - Throws: `RuntimeError` `.listener` when the address cannot be bound.
    public func run() async throws {
        let logger = self.logger
        let server = try HTTPServer(
            host: host, port: requestedPort, threads: threads, maxBodyBytes: maxBodyBytes, maxBufferedBytes: maxBufferedBytes,
            log: { logger.warning("libmicrohttpd", [("detail", .string($0))]) }, handler: handler)
        logger.info("http listening", [("host", .string(host)), ("port", .integer(server.port))])
        await withCheckedContinuation { continuation in
            let done = stopped.withLock { state in
                if !state.done { state.waiter = continuation }
                return state.done
            }
            if done { continuation.resume() }
        }
        server.stop()
    }

    public func shutdown() async {
        let waiter = stopped.withLock { state -> CheckedContinuation<Void, Never>? in
            state.done = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
