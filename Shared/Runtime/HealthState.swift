import Synchronization

/// Liveness and readiness as `/healthz` and `/readyz` report them.
///
/// Live: the process works (a fatal error clears it so Kubernetes restarts the pod). Ready: the stage
/// has what it needs (broker reachable, partitions assigned, configuration valid) and should get traffic.
public final class HealthState: Sendable {
    private let live = Atomic(true)
    private let ready = Atomic(false)
    private let livenessChecks = Mutex<[@Sendable () -> Bool]>([])

    public init() {}

    /// Live unless cleared, and only while every liveness check passes.
    public var isLive: Bool { live.load(ordering: .relaxed) && livenessChecks.withLock { $0 }.allSatisfy { $0() } }

    /// Adds a condition `/healthz` requires from now on (a stage's "still making progress").
    public func addLivenessCheck(_ check: @escaping @Sendable () -> Bool) {
        livenessChecks.withLock { $0.append(check) }
    }

    public var isReady: Bool { ready.load(ordering: .relaxed) }

    public func setLive(_ value: Bool) { live.store(value, ordering: .relaxed) }
    public func setReady(_ value: Bool) { ready.store(value, ordering: .relaxed) }
}
