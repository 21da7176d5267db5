import Synchronization

/// Liveness and readiness as `/healthz` and `/readyz` report them.
///
/// Live: the process works (a fatal error clears it so Kubernetes restarts the pod). Ready: the stage
/// has what it needs (broker reachable, partitions assigned, configuration valid) and should get traffic.
public final class HealthState: Sendable {
    private let live = Atomic(true)
    private let ready = Atomic(false)

    public init() {}

    public var isLive: Bool { live.load(ordering: .relaxed) }
    public var isReady: Bool { ready.load(ordering: .relaxed) }

    public func setLive(_ value: Bool) { live.store(value, ordering: .relaxed) }
    public func setReady(_ value: Bool) { ready.store(value, ordering: .relaxed) }
}
