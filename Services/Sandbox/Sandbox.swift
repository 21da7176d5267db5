import Foundation
import Observability
import Runtime

/// The sandbox assembled from its settings: store, fault injector, both APIs and the router.
struct Sandbox: Sendable {
    let store: SandboxStore
    let faults: FaultInjector
    let router: SandboxRouter

    init(settings: SandboxSettings, metrics: MetricsRegistry, health: HealthState, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        store = SandboxStore(arrivalCapacity: settings.arrivalJournalCapacity)
        faults = FaultInjector(plans: settings.faults)
        let x = XAdsAPI(store: store, credentials: settings.xCredentials, limits: settings.xLimits, metrics: metrics, now: now)
        let tiktok = TikTokAPI(store: store, accessToken: settings.tiktokToken, limits: settings.tiktokLimits, metrics: metrics, now: now)
        let admin = SandboxAdminAPI(store: store, faults: faults) {
            x.audienceLimiter.reset()
            x.writeLimiter.reset()
            tiktok.limiter.reset()
        }
        router = SandboxRouter(x: x, tiktok: tiktok, admin: admin, faults: faults, metrics: metrics, health: health)
    }
}
