/// A long-running part of an executable: a stage's processing loop, the HTTP listener.
///
/// Like swift-service-lifecycle's services: `run()` does the work until it ends or is asked to stop;
/// `shutdown()` asks it to stop taking work, finish what is in flight and return from `run()`.
public protocol Service: Sendable {
    /// Short name for logs.
    var name: String { get }
    /// Runs until done, failed or shut down.
    func run() async throws
    /// Begins a graceful end; must return promptly and may be called more than once.
    func shutdown() async
}
