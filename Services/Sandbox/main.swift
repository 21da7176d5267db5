// cohortsync-sandbox: wires settings, the sandbox and its HTTP listener; the behaviour lives in the types beside this file.
import Foundation
import Observability
import Runtime

ProcessMemory.returnLargeAllocationsWhenFreed()
let options = CommandLineEntry.parse(SandboxSettings.spec)
let settings: SandboxSettings
do {
    settings = try SandboxSettings(options)
} catch {
    CommandLineEntry.fail(SandboxSettings.spec.executable, error.message, status: 64)
}
let logger = Logger(stage: "sandbox", minimumLevel: settings.logLevel)
let metrics = MetricsRegistry()
let health = HealthState()
let sandbox = Sandbox(settings: settings, metrics: metrics, health: health)
health.setReady(true)
let http = HTTPService(
    name: "sandbox", host: settings.host, port: settings.port, threads: settings.threads, maxBodyBytes: settings.maxRequestBytes,
    maxBufferedBytes: settings.maxBufferedBytes, logger: logger,
    handler: sandbox.router.handle)
do {
    try await ServiceGroup(services: [http], gracePeriod: settings.gracePeriod, logger: logger).run()
} catch {
    logger.error("sandbox failed", [("error", .string(String(describing: error)))])
    exit(1)
}
